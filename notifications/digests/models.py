"""Digest windows: one row per (tenant, channel, key) window, open while events join it, then digested once.
The records waiting in a window carry its id (NotificationRecord.digest_window, no database constraint: a
high-volume table). At most one window per (tenant, channel, key) is open: a partial unique index, which is
also the small index intake reads them through."""

from __future__ import annotations

from django.db import models

from notifications.tenants.models import Tenant


class WindowState(models.TextChoices):
    OPEN = "open"  # events join it
    CLOSED = "closed"  # past its close: no event joins it any more; its digest is not written yet
    DIGESTED = "digested"  # its digest record holds its events (count, event_ids): final


class DigestWindow(models.Model):
    # Grows with traffic (one row per window): relations kept by the application, as for records.
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="digest_windows", db_constraint=False,
                               db_index=False)
    channel = models.CharField(max_length=16)
    event_type = models.CharField(max_length=128)
    user_id = models.CharField(max_length=128, blank=True)
    key = models.CharField(max_length=64, help_text="SHA-256 of the window's key (rules.window_key)")
    kind = models.CharField(max_length=16, help_text="window, schedule or rate_limit")
    state = models.CharField(max_length=16, choices=WindowState.choices, default=WindowState.OPEN)
    opened_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    first_at_once = models.BooleanField(default=False)
    events = models.PositiveIntegerField(default=0, help_text="Events that joined (the one sent at once too)")
    digest_record_id = models.BigIntegerField(null=True, blank=True, help_text="The record that is the digest")
    count = models.PositiveIntegerField(default=0, help_text="Events in the digest, set when digested")
    event_ids = models.JSONField(default=list, blank=True, help_text="The digest's first events (at most 50)")
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "channel", "key"], condition=models.Q(state="open"),
                                    name="digest_window_one_open"),
        ]
        indexes = [
            # The sweep for windows whose digest record is gone (sweep.py) reads only windows not digested yet.
            models.Index(fields=["closes_at"], name="digest_window_undigested_idx",
                         condition=~models.Q(state="digested")),
        ]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.event_type}/{self.channel} {self.state} ({self.events})"
