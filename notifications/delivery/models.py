"""One NotificationRecord per (event, recipient, channel): the unit of delivery, retry and analytics."""

from __future__ import annotations

from django.db import models

from notifications.enums import Channel, Lane, Status
from notifications.events.models import Event
from notifications.tenants.models import Tenant

# Records a worker may claim (a 'sending' one whose lease ended is due again): claim_due() and the partial index
# it uses share this list.
# A 'scheduled' record is claimable the same way: its next_attempt_at is its due time.
CLAIMABLE = (Status.PENDING.value, Status.RETRYING.value, Status.SENDING.value, Status.SCHEDULED.value)


class NotificationRecord(models.Model):
    # High-volume table: relations are kept by the application (Django cascades deletes itself), without database
    # constraints, and looked up through the composite indexes below (see docs/architecture.md, "Write path").
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="records", db_constraint=False,
                               db_index=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="records", db_constraint=False,
                              db_index=False)
    event_type = models.CharField(max_length=128)
    user_id = models.CharField(max_length=128, blank=True)
    channel = models.CharField(max_length=16, choices=[(c.value, c.value) for c in Channel])
    recipient = models.CharField(max_length=320, blank=True)
    device = models.ForeignKey(
        "notifications.Device", on_delete=models.SET_NULL, null=True, blank=True, related_name="records",
        db_index=False,  # indexed below, only where set (push records)
    )
    # tenant, channel, status, reason and created_at are counted by triggers into RecordCount (migration 0020):
    # its columns are as wide as these.
    status = models.CharField(max_length=16, choices=[(s.value, s.value) for s in Status], default=Status.PENDING)
    reason = models.CharField(max_length=64, blank=True, help_text="Skip reason or last error code")
    error_detail = models.TextField(blank=True)
    provider = models.CharField(max_length=64, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.UUIDField(null=True, blank=True, help_text="Which worker's lease this record is under")
    cancel_key = models.CharField(max_length=200, blank=True, default="", db_default="",
                                  help_text="The event's cancel_key: cancelling it cancels the records not yet sent")
    #: The digest window (notifications/digests) this record waits in or went out as; no constraint.
    digest_window = models.BigIntegerField(null=True, blank=True)
    # The claim lane (enums.Lane): the normal lane's due records are claimed before the bulk lane's.
    lane = models.PositiveSmallIntegerField(default=Lane.NORMAL, db_default=Lane.NORMAL,
                                            choices=[(lane.value, lane.name.lower()) for lane in Lane])
    #: Where a tenant's rule sends it (notifications/rules): JSON text {"provider": label, "template": name},
    #: written only when a rule sets one (NULL otherwise: no cost to the others).
    route = models.CharField(max_length=300, null=True, blank=True)
    #: True when a rate-limit rule of its tenant covered its event type as it was planned: the records a rule's
    #: window counts (intake/ratelimits.py); NULL for the others.
    rate_counted = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Per user: an audience's recipients may share an address, or have none (skipped records).
            models.UniqueConstraint(fields=["event", "user_id", "channel", "recipient"],
                                    name="record_unique_delivery")
        ]
        indexes = [
            # Only open records are indexed for the claim: records written skipped or sent (in-app), and every
            # record once final, cost no entry here.
            # By lane, then due time: the claim reads each lane's due records in order (delivery/claims.py).
            models.Index(fields=["lane", "next_attempt_at"], name="record_due_idx",
                         condition=models.Q(status__in=CLAIMABLE)),
            models.Index(fields=["device"], name="record_device_idx", condition=models.Q(device__isnull=False)),
            models.Index(fields=["tenant", "created_at"], name="record_tenant_created_idx"),
            # The records rate limits count, by user (migrations 0021-0022): intake reads a batch's users' recent ones.
            # Through the index above it read every record of the tenant in the window (a day's rule: 30-300 ms
            # a batch at a million records a tenant a month, a 31-day rule 2-5 s). Only records of an event type
            # with a rule are in it: the others' writes (intake, fan-out) pay nothing for it.
            models.Index(fields=["tenant", "user_id", "created_at"], name="record_rate_counted_idx",
                         condition=models.Q(rate_counted=True)),
            # Cancelling by key reads only open records that carry one: the index stays as small as the waiting.
            models.Index(fields=["tenant", "cancel_key"], name="record_cancel_key_idx",
                         condition=models.Q(status__in=CLAIMABLE) & ~models.Q(cancel_key="")),
            # The dashboard's latest failures (web/views.py): only failed records are indexed, newest change last.
            models.Index(fields=["updated_at"], name="record_failed_idx",
                         condition=models.Q(status=Status.FAILED.value)),
            # A window's close reads its waiting records: only those are indexed (digests/closing.py).
            models.Index(fields=["digest_window"], name="record_digest_waiting_idx",
                         condition=models.Q(status=Status.SCHEDULED.value, digest_window__isnull=False)),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.channel} -> {self.status}"


class DeliveryAttempt(models.Model):
    """One call to one provider for one record."""

    record = models.ForeignKey(NotificationRecord, on_delete=models.CASCADE, related_name="delivery_attempts",
                               db_constraint=False)  # one per send: high-volume, see NotificationRecord
    # Not indexed: attempts are read by record (its index), never by tenant alone, and an unused index is one
    # more write for every send.
    tenant_id = models.CharField(max_length=64)
    provider = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=16)  # sent | transient | permanent
    error_code = models.CharField(max_length=64, blank=True)
    error_detail = models.CharField(max_length=500, blank=True)
    provider_message_id = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["record_id", "started_at"]

    def __str__(self) -> str:
        return f"record {self.record_id} via {self.provider}: {self.outcome}"
