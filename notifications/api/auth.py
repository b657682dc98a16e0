"""Who is calling: a tenant's service (API key) or an end user of a tenant (inbox JWT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jwt
from django.http import HttpRequest
from ninja.security import APIKeyHeader, HttpBearer

from notifications.api.models import ApiKey
from notifications.conf import get_setting
from notifications.storable import ID_LENGTH, unstorable
from notifications.tenants.models import TENANT_ID_PATTERN


@dataclass(frozen=True)
class TenantPrincipal:
    tenant_id: str
    key_prefix: str


@dataclass(frozen=True)
class InboxUser:
    tenant_id: str
    user_id: str
    expires_at: float = 0.0


class TenantRequest(HttpRequest):
    """How the API-key endpoints annotate their request: django-ninja sets `auth` to what ApiKeyAuth returned.
    Only a type; the object is Django's own request."""

    auth: TenantPrincipal


class InboxRequest(HttpRequest):
    """How the inbox endpoints annotate their request: `auth` is the end user InboxAuth verified."""

    auth: InboxUser


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key: nsk_...` (or `Authorization: Bearer nsk_...`)."""

    param_name = "X-API-Key"

    def __call__(self, request: HttpRequest) -> Any:
        header = request.headers.get("Authorization", "")
        if not request.headers.get(self.param_name) and header.lower().startswith("bearer nsk_"):
            return self.authenticate(request, header[7:])
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> TenantPrincipal | None:
        if not key:
            return None
        found = ApiKey.authenticate(key)
        return TenantPrincipal(found.tenant_id, found.prefix) if found else None


def inbox_jwt_secret() -> str:
    """The configured HS256 secret; in demo mode without one, a secret derived from SECRET_KEY."""
    secret = get_setting("INBOX_JWT_SECRET", "")
    if not secret and get_setting("INBOX_DEMO", False):
        import hashlib

        from django.conf import settings

        secret = hashlib.sha256(f"inbox-demo:{settings.SECRET_KEY}".encode()).hexdigest()
    return secret


def _keys_for(tenant_id: str) -> tuple[str, list[str]] | None:
    """The tenant's own verification key (set with `manage.py set_inbox_key`), else the global one. A tenant
    with its own key accepts only tokens signed with it, so one customer cannot mint tokens for another's users."""
    from notifications.security import decrypt_text
    from notifications.tenants.models import Tenant

    tenant = Tenant.objects.filter(id=tenant_id).only("settings").first()
    own = (tenant.settings.get("inbox_jwt") if tenant else None) or {}
    if own.get("public_key"):
        return own["public_key"], ["RS256", "ES256"]
    if own.get("secret_encrypted"):
        return decrypt_text(own["secret_encrypted"]), ["HS256"]
    public_key = get_setting("INBOX_JWT_PUBLIC_KEY", "")
    if public_key:
        return public_key, ["RS256", "ES256"]
    secret = inbox_jwt_secret()
    return (secret, ["HS256"]) if secret else None


def verify_inbox_token(token: str) -> InboxUser | None:
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    tenant_id = unverified.get("tenant_id") if isinstance(unverified, dict) else None
    if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.match(tenant_id):
        return None  # before any query: a NUL would fail it on PostgreSQL, "acme\n" would name another tenant
    keys = _keys_for(tenant_id)
    if keys is None:
        return None
    key, algorithms = keys
    audience = get_setting("INBOX_JWT_AUDIENCE", "") or None
    try:
        claims = jwt.decode(token, key, algorithms=algorithms, audience=audience,
                            options={"require": ["exp", "sub"], "verify_aud": audience is not None})
    except jwt.PyJWTError:
        return None
    user_id = claims.get("sub")
    if (claims.get("tenant_id") != tenant_id or not isinstance(user_id, str) or not user_id
            or len(user_id) > ID_LENGTH or unstorable(user_id)):
        return None
    return InboxUser(tenant_id, user_id, float(claims["exp"]))


class InboxAuth(HttpBearer):
    """`Authorization: Bearer <JWT>`; the SSE stream also takes `?token=` (EventSource cannot set headers)."""

    def __call__(self, request: HttpRequest) -> Any:
        token = request.GET.get("token")
        if token and request.path.endswith("/stream"):
            return self.authenticate(request, token)
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str) -> InboxUser | None:
        return verify_inbox_token(token)
