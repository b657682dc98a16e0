"""The suite's shared fixtures, loaded as a pytest plugin by the root conftest (`pytest_plugins`).

Fixtures used by more than one test package live here instead of in a package's conftest, so no test imports
another package's conftest; a conftest keeps only what its own directory needs (autouse set-up, local fixtures).
Plain helpers that go with them (`add_provider`, `inbox_token`, `ApiClient`, ...) are imported from this module.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client

from notifications.api.models import ApiKey
from notifications.channels.models import Device, ProviderConfig
from notifications.delivery.worker import DeliveryReport, deliver_until_idle
from notifications.events.registry import event_registry
from notifications.tenants.models import Tenant
from notifications.testing.fake_providers import FakeProviderServer

INBOX_SECRET = "inbox-test-secret-0123456789abcdef"


# Tenants and the pipeline


@pytest.fixture
def tenant(db: Any) -> Tenant:
    """Tenant 'acme'; its user u-1 (the factories' user) has one push device."""
    tenant = Tenant.objects.create(
        id="acme", name="Acme Inc", app_url="https://acme.example.com",
        branding={"company_name": "Acme", "support_email": "help@acme.example.com"},
    )
    Device.objects.create(tenant=tenant, user_id="u-1", platform="fcm", token="fcm-token-u1")
    return tenant


@pytest.fixture
def deliver() -> Any:
    def run() -> DeliveryReport:
        return deliver_until_idle()

    return run


@pytest.fixture
def process() -> Any:
    return event_registry.process_event


@pytest.fixture
def shared_db(tmp_path: Any) -> Any:
    from tests.shared import SharedDatabase

    database = SharedDatabase(tmp_path)
    yield database
    database.drop()


# The HTTP API


class ApiClient:
    def __init__(self, key: str | None) -> None:
        self.client = Client()
        self.headers = {"HTTP_X_API_KEY": key} if key else {}

    def _call(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        kwargs: dict[str, Any] = {**self.headers, **extra}
        if body is not None:
            kwargs["data"] = body
            kwargs["content_type"] = "application/json"
        return getattr(self.client, method)(f"/api/v1{path}", **kwargs)

    def get(self, path: str, **extra: Any) -> Any:
        return self._call("get", path, **extra)

    def post(self, path: str, body: Any = None, **extra: Any) -> Any:
        return self._call("post", path, body if body is not None else {}, **extra)

    def put(self, path: str, body: Any, **extra: Any) -> Any:
        return self._call("put", path, body, **extra)

    def patch(self, path: str, body: Any, **extra: Any) -> Any:
        return self._call("patch", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self._call("delete", path, **extra)


@pytest.fixture(autouse=True)
def _fresh_rules() -> Any:
    """Compiled tenant rules (notifications/rules) are cached per process by (tenant, version): a test's rolled
    back tenant must not leave its rules to the next test's tenant of the same name and version."""
    from notifications.rules.book import forget_compiled

    forget_compiled()
    yield
    forget_compiled()


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Any:
    """Request budgets (notifications.api.throttle) live in Django's cache: each test starts with full ones."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_a(db: Any, tenant: Tenant) -> ApiClient:
    _, key = ApiKey.issue(tenant.id, "tests")
    return ApiClient(key)


@pytest.fixture
def api_b(db: Any) -> ApiClient:
    Tenant.objects.create(id="globex", name="Globex")
    _, key = ApiKey.issue("globex", "tests")
    return ApiClient(key)


@pytest.fixture
def inbox_settings(settings: Any) -> None:
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "INBOX_JWT_SECRET": INBOX_SECRET, "INBOX_DEMO": False}


def inbox_token(tenant_id: str = "acme", user_id: str = "u-1", ttl: int = 3600, secret: str = INBOX_SECRET,
                **claims: Any) -> str:
    return jwt.encode({"sub": user_id, "tenant_id": tenant_id, "exp": int(time.time()) + ttl, **claims}, secret,
                      algorithm="HS256")


# Providers: the fake provider server, credentials and devices for it


@pytest.fixture(autouse=True)
def _fresh_engine() -> Iterator[None]:
    """Breakers and connection pools belong to one engine; each test gets its own."""
    from notifications.delivery.worker import reset_default_engine

    reset_default_engine()
    yield
    reset_default_engine()


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    server = FakeProviderServer().start()
    yield server
    server.stop()


def _pem(key: Any) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


@pytest.fixture
def service_account(fake: FakeProviderServer) -> dict[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fake.fcm_public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return {"type": "service_account", "project_id": "demo-project", "client_email": "svc@demo.iam.example",
            "private_key": _pem(key), "token_uri": f"{fake.url}/oauth2/token"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def web_subscription(fake: FakeProviderServer) -> dict[str, Any]:
    browser_key = ec.generate_private_key(ec.SECP256R1())
    public = browser_key.public_key().public_bytes(serialization.Encoding.X962,
                                                   serialization.PublicFormat.UncompressedPoint)
    return {"endpoint": f"{fake.url}/push/sub-1", "keys": {"p256dh": b64url(public), "auth": b64url(os.urandom(16))}}


@pytest.fixture
def vapid_key() -> str:
    return _pem(ec.generate_private_key(ec.SECP256R1()))


def add_provider(tenant_id: str, channel: str, provider: str, options: dict | None = None,
                 credentials: dict | None = None, priority: int = 0) -> ProviderConfig:
    row = ProviderConfig(tenant_id=tenant_id, channel=channel, provider=provider, options=options or {},
                         priority=priority)
    row.credentials = credentials or {}
    row.save()
    return row


def add_device(tenant_id: str, user_id: str, platform: str, token: str, subscription: dict | None = None) -> Device:
    return Device.objects.create(tenant_id=tenant_id, user_id=user_id, platform=platform, token=token,
                                 subscription=subscription or {})
