"""One NotificationRecord per (event, recipient, channel): the unit of delivery, retry and analytics."""

from __future__ import annotations

from django.db import models

from notifications.enums import Channel, Status
from notifications.events.models import Event
from notifications.tenants.models import Tenant


class NotificationRecord(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="records")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="records")
    event_type = models.CharField(max_length=128)
    user_id = models.CharField(max_length=128, blank=True)
    channel = models.CharField(max_length=16, choices=[(c.value, c.value) for c in Channel])
    recipient = models.CharField(max_length=320, blank=True)
    status = models.CharField(max_length=16, choices=[(s.value, s.value) for s in Status], default=Status.PENDING)
    reason = models.CharField(max_length=64, blank=True, help_text="Skip reason or last error code")
    error_detail = models.TextField(blank=True)
    provider = models.CharField(max_length=64, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "channel", "recipient"], name="record_unique_delivery")
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="record_due_idx"),
            models.Index(fields=["tenant", "created_at"], name="record_tenant_created_idx"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.channel} -> {self.status}"
