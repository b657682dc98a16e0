from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from notifications.channels.models import Device, ProviderConfig
from notifications.testing.fake_providers import FakeProviderServer


@pytest.fixture
def fake() -> Iterator[FakeProviderServer]:
    server = FakeProviderServer().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_engine() -> Iterator[None]:
    """Breakers and connection pools belong to one engine; each test gets its own."""
    from notifications.delivery.worker import reset_default_engine

    reset_default_engine()
    yield
    reset_default_engine()


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
