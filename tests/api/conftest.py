from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from django.test import Client

from notifications.api.models import ApiKey
from notifications.tenants.models import Tenant

INBOX_SECRET = "inbox-test-secret-0123456789abcdef"


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
