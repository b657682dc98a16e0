"""Notification records counted by the hour they were made (observability/record_counts.py keeps the rule)."""

from __future__ import annotations

from django.db import models


class RecordCount(models.Model):
    """How many of a tenant's records made in `hour` (UTC) are now in `status` with `reason`, on `channel`: kept
    by the database itself (triggers on the records table, migration 0020) on every insert, update and delete,
    whichever code path makes it. `writer` is the PostgreSQL backend that wrote the row (its pid; 0 on SQLite and
    once compacted), so that two connections never wait on each other's counter rows; `n` of one writer's row may
    be negative (it moved records another writer had counted). A key's count is the sum over its writers."""

    hour = models.DateTimeField()
    # As wide as NotificationRecord's columns, which the triggers copy here (widen both, in one migration that
    # also replaces the triggers if a column is renamed).
    tenant_id = models.CharField(max_length=64)
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=16)
    reason = models.CharField(max_length=64)
    writer = models.IntegerField(default=0)
    n = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            # Also the window's index: it leads with the hour.
            models.UniqueConstraint(fields=["hour", "tenant_id", "channel", "status", "reason", "writer"],
                                    name="record_count_key"),
        ]
        indexes = [  # compact()'s rows to fold: only those not folded yet
            models.Index(fields=["hour"], name="record_count_unfolded_idx", condition=~models.Q(writer=0)),
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H}:00 {self.tenant_id} {self.channel} {self.status} {self.reason}: {self.n}"
