"""Stored in-app messages: the end-user inbox."""

from __future__ import annotations

from django.db import models

from notifications.tenants.models import Tenant


class InAppMessage(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="inbox_messages")
    user_id = models.CharField(max_length=128)
    record = models.OneToOneField(
        "notifications.NotificationRecord", on_delete=models.CASCADE, null=True, blank=True, related_name="inbox"
    )
    event_type = models.CharField(max_length=128)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    action_url = models.URLField(max_length=1000, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["tenant", "user_id", "read_at"], name="inbox_user_unread_idx")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
