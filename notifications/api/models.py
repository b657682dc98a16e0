"""Tenant API keys: shown once, stored as a SHA-256 hash (keys are 256-bit random, so a fast hash is enough),
found by their public prefix, revocable."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.db import models
from django.utils import timezone

from notifications.tenants.models import Tenant

KEY_PREFIX = "nsk"
_PREFIX = re.compile(r"[0-9a-f]{1,16}")  # token_hex: checked before it reaches a query


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["tenant_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.tenant_id}: {KEY_PREFIX}_{self.prefix}_… ({'revoked' if self.revoked_at else 'active'})"

    @classmethod
    def issue(cls, tenant_id: str, name: str = "") -> tuple[ApiKey, str]:
        """A new key and its full text; the text is never stored and cannot be shown again."""
        Tenant.ensure([tenant_id])
        prefix = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        key = cls.objects.create(tenant_id=tenant_id, name=name, prefix=prefix, key_hash=_digest(secret))
        return key, f"{KEY_PREFIX}_{prefix}_{secret}"

    @classmethod
    def authenticate(cls, text: str) -> ApiKey | None:
        try:
            label, prefix, secret = text.strip().split("_", 2)
        except ValueError:
            return None
        if label != KEY_PREFIX or not _PREFIX.fullmatch(prefix):
            return None
        key = cls.objects.filter(prefix=prefix, revoked_at__isnull=True).select_related("tenant").first()
        if key is None or not hmac.compare_digest(key.key_hash, _digest(secret)):
            return None
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            cls.objects.filter(pk=key.pk).update(last_used_at=now)
        return key

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])
