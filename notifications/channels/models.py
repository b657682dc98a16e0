"""Stored in-app messages: the end-user inbox."""

from __future__ import annotations

from typing import Any

from django.db import models

from notifications.channels.spec import provider_channels
from notifications.tenants.models import Tenant


class InAppMessage(models.Model):
    # High-volume table: see NotificationRecord.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inbox_messages", db_constraint=False,
                               db_index=False)
    user_id = models.CharField(max_length=128)
    record = models.OneToOneField(
        "notifications.NotificationRecord", on_delete=models.CASCADE, null=True, blank=True, related_name="inbox",
        db_constraint=False,
    )
    event_type = models.CharField(max_length=128)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    action_url = models.URLField(max_length=1000, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Messages carrying a secret (a 2FA code) are blanked at this time"
    )

    class Meta:
        indexes = [
            models.Index(fields=["tenant", "user_id", "read_at"], name="inbox_user_unread_idx"),
            # Only messages carrying a secret expire: the others (most) stay out of the index.
            models.Index(fields=["expires_at"], name="inbox_expiring_idx",
                         condition=models.Q(expires_at__isnull=False)),
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Device(models.Model):
    """A push target of a user: an FCM registration token, an APNs device token, or a Web Push subscription
    (endpoint plus keys, in `subscription`). Deactivated when its provider says it is gone."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="devices")
    user_id = models.CharField(max_length=128)
    platform = models.CharField(max_length=16, choices=[("fcm", "fcm"), ("apns", "apns"), ("webpush", "webpush")])
    token = models.CharField(max_length=512, help_text="FCM/APNs token, or the Web Push endpoint URL")
    subscription = models.JSONField(default=dict, blank=True, help_text="Web Push keys: {p256dh, auth}")
    active = models.BooleanField(default=True)
    deactivated_reason = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "platform", "token"], name="device_unique_token")]
        indexes = [models.Index(fields=["tenant", "user_id", "active"], name="device_user_active_idx")]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.user_id} {self.platform}"


class ProviderConfig(models.Model):
    """One provider in a tenant's chain for a channel. Lower priority is tried first. Credentials are a JSON
    object stored encrypted (Fernet); `options` holds what is not secret."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="providers")
    channel = models.CharField(max_length=16, choices=[(c, c) for c in provider_channels()])
    provider = models.CharField(max_length=32, help_text="smtp, django, twilio, webhook, fcm, webpush, apns, log")
    priority = models.PositiveSmallIntegerField(default=0)
    enabled = models.BooleanField(default=True)
    options = models.JSONField(default=dict, blank=True)
    credentials_encrypted = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant_id", "channel", "priority", "id"]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.channel}: {self.provider} (priority {self.priority})"

    @property
    def credentials(self) -> dict[str, Any]:
        import json

        from notifications.security import decrypt_text

        return json.loads(decrypt_text(self.credentials_encrypted)) if self.credentials_encrypted else {}

    @credentials.setter
    def credentials(self, value: dict[str, Any]) -> None:
        import json

        from notifications.security import encrypt_text

        self.credentials_encrypted = encrypt_text(json.dumps(value)) if value else ""

    @property
    def credentials_masked(self) -> dict[str, str]:
        return {key: "********" for key in self.credentials}
