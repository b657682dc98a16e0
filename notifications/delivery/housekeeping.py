"""Delivery's housekeeping: the secrets of events whose records are all final are purged as outcomes are
written, and in-app messages whose secret has expired are blanked at most once a second per process (the
work itself is in delivery/secrets.py)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.utils import timezone

from notifications.delivery.secrets import expire_inbox_secrets, purge_final_secrets
from notifications.enums import Status
from notifications.events.registry import event_registry

if TYPE_CHECKING:
    from notifications.delivery.batch import Record


class InboxExpiry:
    """Blank in-app messages whose secret has expired, at most once a second. A worker caught up claims nothing
    many times a second (two processes at 1,000 events/s: ~17 empty claims a second between them), and the
    sweep ran after each; on a table the planner has no statistics for yet (a new deployment's first minute) it
    was a sequential scan of the inbox, up to a quarter of a core."""

    INTERVAL_SECONDS = 1.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # tests move it
        self._swept_at = -1e9

    def sweep(self) -> int:
        if self.clock() - self._swept_at < self.INTERVAL_SECONDS:
            return 0
        self._swept_at = self.clock()
        return expire_inbox_secrets(timezone.now())


def purge_finished(records: Iterable[Record], owned: set[int]) -> int:
    """Purge the secrets of the events of `records` (those of them in `owned`) now final, if no other record of
    the event is still open. Secrets can only need purging for events whose handler declares some."""
    final = {record.event_id for record in records if record.pk in owned
             and record.status in (Status.SENT, Status.FAILED) and has_secrets(record.event_type, record.tenant_id)}
    return purge_final_secrets(final)


def has_secrets(event_type: str, tenant_id: str | None = None) -> bool:
    try:
        return bool(event_registry.handler_for(event_type, tenant_id).sensitive_fields)
    except Exception:  # noqa: BLE001 - an unknown type: check, as before
        return True
