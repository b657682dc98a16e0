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

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import OperationalError, connection, connections, transaction
from django.db.models import Exists, Model, OuterRef, QuerySet
from django.utils import timezone

from notifications.audiences.models import OPEN_STATES, FanOut
from notifications.channels.models import InAppMessage
from notifications.conf import get_setting
from notifications.db.deletes import delete_rows
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.digests.models import DigestWindow, WindowState
from notifications.enums import Status
from notifications.errors import NotificationConfigurationError
from notifications.events.models import Event, EventKey, RejectedEvent
from notifications.history import partitions
from notifications.history.settings import CLASSES, EVENTS, INBOX, RECORDS, retention_days
from notifications.observability import record_counts
from notifications.tenants.models import Tenant
from notifications.utils.ids import unmade_after, uuid7_floor

logger = logging.getLogger(__name__)

#: Rows per batch (one transaction each).
PRUNE_BATCH = 2000
_FINAL = tuple(status.value for status in Status.final())


@dataclass
class PruneReport:
    """Rows deleted (or, in a dry run, that would be) per table; `finished` False when the time budget ran out."""

    deleted: dict[str, int] = field(default_factory=dict)
    finished: bool = True
    resume: tuple[str, int] | None = None  # (tenant, table) where the budget ran out: where the next call starts
    dropped: list[str] = field(default_factory=list)  # partitions dropped whole (their rows counted in `deleted`)

    def add(self, table: str, count: int) -> None:
        if count:
            self.deleted[table] = self.deleted.get(table, 0) + count


def prune(now: datetime | None = None, *, dry_run: bool = False, budget: float | None = None,
          tenant_ids: list[str] | None = None, resume: tuple[str, int] | None = None,
          clock: Callable[[], float] = time.monotonic) -> PruneReport:
    """Delete what has expired for every tenant (or those listed), table by table and batch by batch, until done
    or `budget` seconds have passed. Each call gets at least one table's worth done; when the budget runs out,
    `report.resume` says where the next call (`resume=`) goes on, so every tenant is reached in turn, not only
    the first few. Rejected events that name no tenant follow the service's defaults, first. A dry run counts
    instead."""
    now = now or timezone.now()
    report = PruneReport()
    deadline = None if budget is None else clock() + budget
    partitioned = partitions.enabled()
    bounds = _Bounds(partitioned)
    steps = 0

    def past_deadline() -> bool:
        return deadline is not None and clock() >= deadline

    def out_of_time() -> bool:
        return steps > 0 and past_deadline()

    if partitioned and resume is None and tenant_ids is None:  # whole partitions first (partitions.py)
        for spec, part in partitions.droppable(now):
            try:
                rows = partitions.estimated_rows(part) if dry_run else partitions.drop(spec, part)
            except OperationalError as err:  # the table's lock not had in time (partitions.LOCK_TIMEOUT_MS):
                # the rest wait for the next sweep too (each try may hold intake up that long)
                logger.info("partition %s not dropped this time: %s", part.name, err)
                break
            if rows is None:  # something in it must stay after all (judged again under its lock)
                continue
            report.add(spec.label, rows)
            report.dropped.append(part.name)
            steps += 1
    if resume is None and tenant_ids is None:  # rejections that name no tenant (invalid JSON, no tenant_id)
        days = retention_days(None)[EVENTS]
        if days is not None:
            query = RejectedEvent.objects.filter(tenant_id="", created_at__lt=now - timedelta(days=days))
            _run("rejected_events", query.order_by("created_at"), _raw_delete(RejectedEvent), report, dry_run)
            steps += 1
    first_tenant, first_step = resume or ("", 0)
    tenants = Tenant.objects.all() if tenant_ids is None else Tenant.objects.filter(pk__in=tenant_ids)
    for tenant in tenants.filter(pk__gte=first_tenant).order_by("pk").iterator():
        for index, (table, query, delete) in enumerate(_expired_for(retention_days(tenant), tenant.pk, now, bounds)):
            if tenant.pk == first_tenant and index < first_step:
                continue
            if out_of_time() or not _run(table, query, delete, report, dry_run, past_deadline):
                report.finished, report.resume = False, (tenant.pk, index)  # this table again, next time
                return report
            steps += 1
    return report


def _run(table: str, query: QuerySet[Any], delete: Callable[[list[Any]], object], report: PruneReport,
         dry_run: bool, out_of_time: Callable[[], bool] = lambda: False) -> bool:
    """One table's expired rows, batch by batch (a batch is short: its transaction is one), to the end or until
    out of time after a batch: False then (a worker's sweep runs between its claims, and one tenant's table of
    expired rows took seconds: bench/README.md, "History")."""
    if dry_run:
        report.add(table, query.count())
        return True
    while True:
        count = _delete_batch(query, delete)
        report.add(table, count)
        if count < PRUNE_BATCH:
            return True
        if out_of_time():
            return False


def _expired_for(days: dict[str, int | None], tenant_id: str, now: datetime, bounds: _Bounds) -> Iterator[Batch]:
    """Each class's expired rows for one tenant, records first. An event outlives its records (it expires only
    once none is left), so its cut-off is the later of the two: scanning events whose records are still kept
    would find nothing to delete, every time."""
    for name in CLASSES:
        kept = days[name]
        records = days[RECORDS]
        if name == EVENTS:
            kept = None if records is None or kept is None else max(kept, records)
        if kept is not None:
            cutoff = now - timedelta(days=kept)
            yield from _expired(name, tenant_id, cutoff, bounds.rows_cutoff(name, kept, cutoff), bounds, now)


Batch = tuple[str, QuerySet[Any], Callable[[list[Any]], object]]


def _expired(name: str, tenant_id: str, cutoff: datetime, rows_cutoff: datetime, bounds: _Bounds,
             now: datetime) -> Iterator[Batch]:
    """(table, the query of its expired rows, how to delete a batch of their ids) for one class. `rows_cutoff`
    applies to the partitioned tables (records, events, inbox): it is earlier when their partitions will drop the
    rows (_Bounds.rows_cutoff)."""
    if name == RECORDS:
        yield ("records", NotificationRecord.objects.filter(tenant_id=tenant_id, created_at__lt=rows_cutoff,
                                                            status__in=_FINAL).order_by("created_at"),
               _delete_records)
        below = bounds.last_id_before(DigestWindow, "opened_at", cutoff)  # a window closes after it opens
        if below is not None:
            yield ("digest_windows", DigestWindow.objects.filter(
                tenant_id=tenant_id, pk__lte=below, state=WindowState.DIGESTED, closed_at__lt=cutoff).order_by("pk"),
                _raw_delete(DigestWindow))
    elif name == EVENTS:
        records_left = NotificationRecord.objects.filter(event_id=OuterRef("pk"))
        open_fanouts = FanOut.objects.filter(event_id=OuterRef("pk"), state__in=OPEN_STATES)
        expired = Event.objects.filter(tenant_id=tenant_id, received_at__lt=rows_cutoff)
        unlinked = expired.exclude(Exists(records_left)).exclude(Exists(open_fanouts)).order_by("pk")
        yield ("events", unlinked.filter(pk__lt=uuid7_floor(rows_cutoff)), _raw_delete(Event))
        # Random (version 4) keys of a database from before ef08eef, far above any time-ordered key made yet.
        yield ("events", unlinked.filter(pk__gte=unmade_after(now)), _raw_delete(Event))
        # An event's dedupe key goes once its event has (a key outliving it only names a deleted original; one
        # deleted before it would let a redelivered event in again).
        keys = EventKey.objects.filter(tenant_id=tenant_id).order_by("event_id")
        event = Event.objects.filter(pk=OuterRef("event_id"))
        low_keys = keys.filter(event_id__lt=uuid7_floor(cutoff))
        # A time-ordered key's event went in within KEY_SLACK of the key's time: looked up only in the events
        # partitions of before the cut-off (and the slack), not in every one.
        yield ("event_keys", low_keys.filter(event_id__version="7").exclude(
            Exists(event.filter(received_at__lt=cutoff + partitions.KEY_SLACK))), _raw_delete(EventKey))
        # Random (version 4) keys of a database from before ef08eef: their time is not in them. Below the
        # floor (about 0.6% of them), and far above any time-ordered key made yet (most).
        yield ("event_keys", low_keys.exclude(event_id__version="7").exclude(Exists(event)), _raw_delete(EventKey))
        yield ("event_keys", keys.filter(event_id__gte=unmade_after(now)).exclude(Exists(event)),
               _raw_delete(EventKey))
        # A finished fan-out goes once its event has (it only reports on it).
        yield ("fanouts", FanOut.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff)
               .exclude(state__in=OPEN_STATES).exclude(Exists(Event.objects.filter(pk=OuterRef("event_id"))))
               .order_by("pk"), _raw_delete(FanOut))
        yield ("rejected_events", RejectedEvent.objects.filter(tenant_id=tenant_id, created_at__lt=cutoff)
               .order_by("created_at"), _raw_delete(RejectedEvent))
    elif name == INBOX:
        below = bounds.last_id_before(InAppMessage, "created_at", rows_cutoff)
        if below is not None:
            yield ("inbox_messages", InAppMessage.objects.filter(tenant_id=tenant_id, pk__lte=below,
                                                                 created_at__lt=rows_cutoff).order_by("pk"),
                   _raw_delete(InAppMessage))


def _raw_delete(model: type[Model]) -> Callable[[list[Any]], object]:
    """A batch deleted by one statement, without Django's cascade (db/deletes.py: the inbox keeps its own
    time)."""
    return lambda ids: delete_rows(model, "pk", ids)


class _Bounds:
    """_last_id_before, worked out once per table and cut-off in one prune (tenants share the tables), and the
    partitions' share of the work."""

    def __init__(self, partitioned: bool = False) -> None:
        self._found: dict[tuple[Any, str, datetime], int | None] = {}
        self.partitioned = partitioned
        if partitioned:
            self.longest, self.width, self.first = (partitions.longest_kept(), partitions.width(),
                                                    partitions.first_ranges())

    def rows_cutoff(self, name: str, kept: int, cutoff: datetime) -> datetime:
        """The cut-off of the batch deletes in a partitioned table: for a tenant keeping a class as long as the
        longest-keeping tenant, the partitions drop its rows (within one width of their expiry), so batches
        leave them that long; a tenant keeping less loses its rows by batch, on time, as do rows before the
        first range (the legacy and default partitions)."""
        if not self.partitioned or self.longest.get(name) != kept:
            return cutoff
        first = self.first.get(name)
        return max(cutoff - self.width, cutoff if first is None else min(cutoff, first))

    def last_id_before(self, model: type[Model], column: str, cutoff: datetime) -> int | None:
        key = (model, column, cutoff)
        if key not in self._found:
            self._found[key] = _last_id_before(model, column, cutoff)
        return self._found[key]


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
    delete_rows(DeliveryAttempt, "record_id", ids)  # its record index
    InAppMessage.objects.filter(record_id__in=ids).update(record=None)
    _raw_delete(NotificationRecord)(ids)


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
    RETENTION_BUDGET_SECONDS (what it leaves is taken next time). Off when the interval is 0. The time
    partitions ahead are made at the first sweep and every PARTITIONS_CHECK_SECONDS, pruning on or off (a catalog
    read per table when they exist).

    `background` (the worker's, on PostgreSQL): the sweep runs on a thread of its own, on its own connection,
    while the worker goes on claiming and sending; inline, a sweep held the worker's next claim for as long as it
    ran (e-mail p95 9 s end to end while pruning a month of history: bench/README.md, "History"). One sweep at a
    time. SQLite has one writer: the sweep stays inline there."""

    PARTITIONS_CHECK_SECONDS = 3600.0

    def __init__(self, clock: Callable[[], float] = time.monotonic, *, background: bool = False) -> None:
        self.clock = clock
        self.interval = float(get_setting("RETENTION_INTERVAL_SECONDS", 300))
        self.budget = float(get_setting("RETENTION_BUDGET_SECONDS", 0.5))
        self.last = clock()  # not in a worker's first seconds: they belong to the backlog
        self.resume: tuple[str, int] | None = None  # where the last sweep's budget ran out
        self.partitions_checked: float | None = None
        self.background = background
        self.thread: threading.Thread | None = None

    def sweep(self) -> PruneReport | None:
        """Whatever is due, inline (its report), or started on the sweep's thread (None)."""
        now = self.clock()
        partitions_due = (self.partitions_checked is None
                          or now - self.partitions_checked >= self.PARTITIONS_CHECK_SECONDS)
        prune_due = self.interval > 0 and now - self.last >= self.interval
        if not (partitions_due or prune_due) or (self.thread is not None and self.thread.is_alive()):
            return None
        if partitions_due:
            self.partitions_checked = now
        if prune_due:
            self.last = now
        if not self.background:
            return self._run(partitions_due, prune_due)
        self.thread = threading.Thread(target=self._run_on_thread, args=(partitions_due, prune_due),
                                       name="retention-sweep", daemon=True)
        self.thread.start()
        return None

    def _run(self, partitions_due: bool, prune_due: bool) -> PruneReport | None:
        try:
            if partitions_due:
                partitions.ensure()
                record_counts.compact()  # the hours closed since: the writers' counter rows folded
            if not prune_due:
                return None
            report = prune(budget=self.budget, clock=self.clock, resume=self.resume)
        except NotificationConfigurationError as err:  # the service's defaults are wrong: said, not fatal
            logger.error("history is not pruned: %s", err)
            return None
        self.resume = report.resume
        return report

    def _run_on_thread(self, partitions_due: bool, prune_due: bool) -> None:
        try:
            self._run(partitions_due, prune_due)
        except Exception:  # a thread's error would otherwise go unsaid; the next sweep tries again
            logger.exception("history pruning failed")
        finally:
            connections.close_all()  # this thread's own connection
