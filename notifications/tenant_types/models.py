"""A tenant's own event type: its payload's JSON Schema, channels and default templates, stored and versioned."""

from __future__ import annotations

from django.db import models

from notifications.tenants.models import Tenant


class TenantEventType(models.Model):
    """One tenant's definition of an event type. Another tenant's definition of the same name is a different
    type, never visible to this one. Every change (an update, a deactivation) bumps `version`: each process
    keys what it compiled from a definition by it, and sees the new one on its next batch."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="event_types")
    name = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    payload_schema = models.JSONField(help_text="JSON Schema (Draft 2020-12) of the payload, of type object")
    channels = models.JSONField(default=list, help_text='The channels notified, e.g. ["email", "in_app"]')
    templates = models.JSONField(
        default=dict, help_text='{channel: {locale: {field: Jinja source}}}; locale "" is the locale-neutral text')
    example = models.JSONField(default=dict, help_text="A payload that the schema accepts")
    version = models.PositiveIntegerField(default=1)
    is_active = models.BooleanField(default=True, help_text="Off: new events are refused; stored ones stay")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["tenant_id", "name"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="tenant_event_type_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.tenant_id})"
