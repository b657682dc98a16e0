"""Retention: how long history is kept, and what expires. The rule, in one place.

Three classes of history, each kept a number of days, set per tenant in its settings (`retention_days`, e.g.
`{"records": 30}`) over the defaults of NOTIFICATIONS["RETENTION_DAYS"] (events 90, records 90, inbox 180; null
keeps a class forever):

- `records`: notification records (with their delivery attempts) created before the cut-off and final (sent,
  failed, skipped, cancelled): a record still waiting or being sent never expires. Digest windows digested before
  the cut-off go with them.
- `events`: events received before the cut-off that have no record left (so a record never outlives its event:
  an event is kept at least as long as its records) and no open fan-out; rejected events stored before the
  cut-off.
- `inbox`: in-app messages created before the cut-off, read or not.

Rows go in bounded batches (`PRUNE_BATCH`), each its own transaction, so intake and the workers never wait on
pruning for longer than one batch's row locks; concurrent pruners take different rows (SKIP LOCKED on
PostgreSQL). `manage.py prune_history [--dry-run]` runs it to the end; every delivery worker runs it in the
background every `RETENTION_INTERVAL_SECONDS` for at most `RETENTION_BUDGET_SECONDS` (housekeeping.py), going on
where it stopped next time. Secrets are purged earlier, as their notifications end (delivery/secrets.py).

How rows are found: records by the (tenant, created_at) index; events by their time-ordered keys (UUIDv7: every
key below the cut-off's is older) checked against received_at; inbox messages and digest windows below the
greatest id created before the cut-off (ids grow with time), found by bisecting the primary key. When the tables
are partitioned by time (issue 20, point 1), expiry becomes dropping whole partitions."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.utils import timezone

from notifications.audiences.models import OPEN_STATES, FanOut
from notifications.channels.models import InAppMessage
from notifications.conf import get_setting
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.digests.models import DigestWindow, WindowState
from notifications.enums import Status
from notifications.events.models import Event, RejectedEvent
from notifications.history.settings import CLASSES, EVENTS, INBOX, RECORDS, retention_days
from notifications.tenants.models import Tenant

#: Rows per batch (one transaction each).
PRUNE_BATCH = 2000
_FINAL = tuple(status.value for status in Status.final())


@dataclass
class PruneReport:
    """Rows deleted (or, in a dry run, that would be) per table; `finished` False when the time budget ran out."""

    deleted: dict[str, int] = field(default_factory=dict)
    finished: bool = True

    def add(self, table: str, count: int) -> None:
        if count:
            self.deleted[table] = self.deleted.get(table, 0) + count


def prune(now: datetime | None = None, *, dry_run: bool = False, budget: float | None = None,
          tenant_ids: list[str] | None = None, clock: Callable[[], float] = time.monotonic) -> PruneReport:
    """Delete what has expired for every tenant (or those listed), batch by batch, until done or `budget` seconds
    have passed. A dry run counts instead."""
    now = now or timezone.now()
    report = PruneReport()
    deadline = None if budget is None else clock() + budget
    tenants = Tenant.objects.all() if tenant_ids is None else Tenant.objects.filter(pk__in=tenant_ids)
    for tenant in tenants.order_by("pk"):
        days = retention_days(tenant)
        for name in CLASSES:
            if days[name] is None:
                continue
            cutoff = now - timedelta(days=int(days[name] or 0))
            for table, query, delete in _expired(name, tenant.pk, cutoff):
                if dry_run:
                    report.add(table, query.count())
                    continue
                while True:
                    if deadline is not None and clock() >= deadline:
                        report.finished = False
                        return report
                    count = _delete_batch(query, delete)
                    report.add(table, count)
                    if count < PRUNE_BATCH:
                        break
    return report


Batch = tuple[str, QuerySet[Any], Callable[[list[Any]], object]]


def _expired(name: str, tenant_id: str, cutoff: datetime) -> Iterator[Batch]:
    """(table, the query of its expired rows, how to delete a batch of their ids) for one class."""
    if name == RECORDS:
        yield ("records", NotificationRecord.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff,
                                                            status__in=_FINAL).order_by("created_at"),
               _delete_records)
        below = _last_id_before(DigestWindow, "closed_at", cutoff)
        if below is not None:
            yield ("digest_windows", DigestWindow.objects.filter(
                tenant_id=tenant_id, pk__lte=below, state=WindowState.DIGESTED, closed_at__lt=cutoff).order_by("pk"),
                lambda ids: DigestWindow.objects.filter(pk__in=ids)._raw_delete(DigestWindow.objects.db))
    elif name == EVENTS:
        records_left = NotificationRecord.objects.filter(event_id=OuterRef("pk"))
        open_fanouts = FanOut.objects.filter(event_id=OuterRef("pk"), state__in=OPEN_STATES)
        yield ("events", Event.objects.filter(tenant_id=tenant_id, pk__lt=uuid7_floor(cutoff),
                                              received_at__lt=cutoff)
               .exclude(Exists(records_left)).exclude(Exists(open_fanouts)).order_by("pk"),
               lambda ids: Event.objects.filter(pk__in=ids)._raw_delete(Event.objects.db))
        yield ("rejected_events", RejectedEvent.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff)
               .order_by("created_at"),
               lambda ids: RejectedEvent.objects.filter(pk__in=ids)._raw_delete(RejectedEvent.objects.db))
    elif name == INBOX:
        below = _last_id_before(InAppMessage, "created_at", cutoff)
        if below is not None:
            yield ("inbox_messages", InAppMessage.objects.filter(tenant_id=tenant_id, pk__lte=below,
                                                                 created_at__lt=cutoff).order_by("pk"),
                   lambda ids: InAppMessage.objects.filter(pk__in=ids)._raw_delete(InAppMessage.objects.db))


def _delete_batch(query: QuerySet[Any], delete: Callable[[list[Any]], object]) -> int:
    with transaction.atomic():
        chosen = query.select_for_update(skip_locked=True, of=("self",)) if connection.vendor == "postgresql" \
            else query
        ids = list(chosen.values_list("pk", flat=True)[:PRUNE_BATCH])
        if ids:
            delete(ids)
    return len(ids)


def _delete_records(ids: list[int]) -> None:
    """Records with their attempts; their inbox messages stay (the inbox has its own retention) and forget them.
    Raw deletes: Django's cascade would take the inbox messages too, and read each relation first."""
    DeliveryAttempt.objects.filter(record_id__in=ids)._raw_delete(DeliveryAttempt.objects.db)
    InAppMessage.objects.filter(record_id__in=ids).update(record=None)
    NotificationRecord.objects.filter(pk__in=ids)._raw_delete(NotificationRecord.objects.db)


def uuid7_floor(moment: datetime) -> str:
    """The smallest version 7 UUID of this millisecond: every event key made before it is smaller."""
    millis = int(moment.timestamp() * 1000)
    hexed = f"{millis:012x}7000800000000000" + "0" * 4
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:32]}"


def _last_id_before(model: type[Model], column: str, cutoff: datetime) -> int | None:
    """The greatest id whose `column` is before the cut-off, assuming ids grow with it: bisects the primary key
    (some 40 index look-ups on a billion rows). None when there is none."""
    manager = model._default_manager
    first = manager.order_by("pk").values_list("pk", column).first()
    if first is None or first[1] is None or first[1] >= cutoff:
        return None
    low, high = first[0], manager.order_by("-pk").values_list("pk", flat=True).first()
    while low < high:  # invariant: the row at or after `low` is before the cut-off
        middle = (low + high + 1) // 2
        row = manager.filter(pk__gte=middle).order_by("pk").values_list("pk", column).first()
        if row is not None and row[1] is not None and row[1] < cutoff:
            low = row[0]
        else:
            high = middle - 1
    return int(low)


class RetentionSweep:
    """A worker's background pruning: at most once per RETENTION_INTERVAL_SECONDS, for at most
    RETENTION_BUDGET_SECONDS (what it leaves is taken next time). Off when the interval is 0."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.interval = float(get_setting("RETENTION_INTERVAL_SECONDS", 300))
        self.budget = float(get_setting("RETENTION_BUDGET_SECONDS", 0.5))
        self.last = clock()  # not in a worker's first seconds: they belong to the backlog

    def sweep(self) -> PruneReport | None:
        if self.interval <= 0 or self.clock() - self.last < self.interval:
            return None
        self.last = self.clock()
        return prune(budget=self.budget, clock=self.clock)
