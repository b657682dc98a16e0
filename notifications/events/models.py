"""The event archive and the rejected events kept for operators (dead letters of every intake path)."""

from __future__ import annotations

from django.db import models

from notifications.enums import RejectionReason
from notifications.tenants.models import Tenant
from notifications.utils.ids import uuid7


class Event(models.Model):
    """An accepted event. Sensitive payload fields are stored encrypted (see notifications.security)."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)  # time-ordered: utils/ids.py
    # High-volume table: see NotificationRecord.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="events", db_constraint=False,
                               db_index=False)
    event_type = models.CharField(max_length=128)
    event_id = models.CharField(max_length=128, blank=True, help_text="The publisher's id, when given")
    dedupe_key = models.CharField(max_length=160, help_text="event_id, or a hash of the canonical event")
    user_id = models.CharField(max_length=128, blank=True)
    occurred_at = models.DateTimeField()
    payload = models.JSONField(default=dict)
    metadata = models.JSONField(default=dict, blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="Kafka topic, 'api' or 'local'")
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        # Not unique by (tenant, dedupe key) here: EventKey holds the keys seen (the events table is partitioned by
        # time on PostgreSQL, where a unique constraint would have to include the time).
        indexes = [models.Index(fields=["tenant", "event_type", "received_at"], name="event_tenant_type_idx")]
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.id}"


class EventKey(models.Model):
    """The dedupe key of every event taken in: intake inserts the batch's keys first, and those the database
    refuses (unique per tenant) are duplicates (intake/dedupe.py). One small unpartitioned table beside the
    partitioned events, so a key is unique whatever time its event went in; its rows go with their events'
    retention (history/retention.py), found by the key's event id (time-ordered, UUIDv7)."""

    event_id = models.UUIDField(primary_key=True)  # the event it let in (no constraint: high-volume)
    tenant_id = models.CharField(max_length=64)
    dedupe_key = models.CharField(max_length=160)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant_id", "dedupe_key"], name="event_key_unique")]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.dedupe_key}"


class RejectedEvent(models.Model):
    """An event intake refused, with the reason. The original is kept twice: redacted for showing, encrypted
    for reprocessing."""

    tenant_id = models.CharField(max_length=200, blank=True, db_index=True)
    event_type = models.CharField(max_length=200, blank=True)
    reason = models.CharField(max_length=32, choices=[(r.value, r.value) for r in RejectionReason])
    detail = models.TextField(blank=True)
    original_redacted = models.TextField(blank=True)
    original_encrypted = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True)
    origin = models.JSONField(default=dict, blank=True, help_text="e.g. Kafka topic, partition and offset")
    # 'topic/partition/offset' of a message from Kafka (unique: a redelivered message is stored once), else null.
    origin_key = models.CharField(max_length=300, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reprocessed_at = models.DateTimeField(null=True, blank=True)
    reprocess_result = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["origin_key"], condition=models.Q(origin_key__isnull=False),
                                               name="rejected_event_origin_once")]

    def __str__(self) -> str:
        return f"{self.reason}: {self.event_type or '?'} ({self.tenant_id or 'no tenant'})"
