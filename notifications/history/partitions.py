"""Which tables are partitioned by time, how wide a partition is, when partitions are made and when one is
dropped: the rule, in one place (the SQL is in db/partitioning.py). PostgreSQL only; SQLite keeps plain tables
and everything here does nothing there.

- TABLES: events by `received_at`, notification records by `created_at`, delivery attempts by `started_at`,
  inbox messages by `created_at`, each with the retention class it belongs to (history/settings.py).
- Width: NOTIFICATIONS["PARTITION_DAYS"] (7) days, ranges aligned to whole multiples of it since 1970-01-01 UTC.
  Wider partitions mean fewer to plan over (the claim and reads by id visit each one's index); narrower ones,
  expired rows gone sooner.
- Ahead: the range of now and PARTITIONS_AHEAD (2) more always exist, made by `manage.py partitions`, by each
  delivery worker's retention sweep and by the migration; a row of a time with no range goes to the default
  partition and moves into its range when that range is made.
- Dropped (by `prune`, history/retention.py) when the whole range is past its class's days for every tenant (the
  longest any tenant keeps; a tenant keeping a class forever keeps every partition of it) and nothing in it must
  live on:
  - records: none still waiting or being sent;
  - attempts: no record left made before the range's end (attempts go with their records);
  - events: no record left of an event in it (read by the records' event index over the events' keys of that
    time, UUIDv7), and no open fan-out of one;
  - inbox: nothing more.
  Rows expiring earlier (a tenant keeping less) go in batches as before; rows whose partition will drop are left
  to the drop (they are gone at most one width after their expiry)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from notifications.audiences.models import OPEN_STATES, FanOut
from notifications.channels.models import InAppMessage
from notifications.db import partitioning
from notifications.delivery.models import CLAIMABLE, DeliveryAttempt, NotificationRecord
from notifications.events.models import Event
from notifications.history.settings import EVENTS, INBOX, RECORDS, partition_settings, retention_days
from notifications.observability import record_counts
from notifications.tenants.models import Tenant
from notifications.utils.ids import unmade_after, uuid7_floor

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: How long a drop waits for the parent table's lock before giving up until the next sweep: the drop's lock
#: queues every insert behind it, so intake waits at most this long (with a default partition PostgreSQL cannot
#: detach concurrently).
LOCK_TIMEOUT_MS = 100
#: Two processes' clocks (a worker's attempt time, intake's record time) are this close.
CLOCK_SLACK = timedelta(hours=1)
#: The longest a record has attempts after it is made: the scheduling horizon (90 days) and a month of retries
#: and digests.
ATTEMPTS_SPAN = timedelta(days=120)
#: Slack under an events range's keys: an event's key is made just before its row (same clock), never an hour.
KEY_SLACK = timedelta(hours=1)


@dataclass(frozen=True)
class PartitionedTable:
    model: type[Model]
    column: str
    history_class: str
    label: str  # as retention reports it

    @property
    def table(self) -> str:
        return self.model._meta.db_table


TABLES = (
    PartitionedTable(Event, "received_at", EVENTS, "events"),
    PartitionedTable(NotificationRecord, "created_at", RECORDS, "records"),
    PartitionedTable(DeliveryAttempt, "started_at", RECORDS, "attempts"),
    PartitionedTable(InAppMessage, "created_at", INBOX, "inbox_messages"),
)


def width() -> timedelta:
    return timedelta(days=partition_settings()[0])


def ahead() -> int:
    return partition_settings()[1]


def range_start(moment: datetime, days: timedelta | None = None) -> datetime:
    """The lower bound of the range holding `moment`."""
    step = days or width()
    return EPOCH + step * ((moment - EPOCH) // step)


def enabled() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        return partitioning.is_partitioned(cursor, Event._meta.db_table)


def ensure(now: datetime | None = None, since: datetime | None = None) -> list[str]:
    """Make the missing ranges of every table, up to the range PARTITIONS_AHEAD past now's, and back to the one
    holding `since` when given (a table whose legacy partition holds the past is not extended back). Ranges stay
    contiguous. One maker per table at a time (an advisory lock: workers check at the same moments); a table
    whose lock is not had within LOCK_TIMEOUT_MS is left for the next check (ranges are made weeks ahead).
    Returns the names made."""
    if not enabled():
        return []
    now = now or timezone.now()
    step = width()
    end = range_start(now, step) + step * (ahead() + 1)
    made: list[str] = []
    for spec in TABLES:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"partitions:{spec.table}"])
                made += _make_ranges(cursor, spec, step, now, end, since)
        except OperationalError as err:  # a lock not had in time
            logger.warning("partitions of %s not made this time: %s", spec.table, err)
    if made:
        logger.info("partitions made: %s", ", ".join(made))
    return made


def _make_ranges(cursor: Any, spec: PartitionedTable, step: timedelta, now: datetime, end: datetime,
                 since: datetime | None) -> list[str]:
    ranges = [p for p in partitioning.partitions(cursor, spec.table) if not p.is_default]
    last: datetime = range_start(since or now, step)
    first: datetime | None = last
    if ranges:
        last = max(p.upper for p in ranges if p.upper is not None)
        lowers = [p.lower for p in ranges if p.lower is not None]
        first = min(lowers) if len(lowers) == len(ranges) else None  # None: a legacy partition holds the past
    wanted: list[tuple[datetime, datetime]] = [(last, end)]
    if since is not None and first is not None:
        wanted.append((range_start(since, step), first))
    made = []
    for lower, until in wanted:
        while lower < until:
            upper = min(lower + step, until) if until == first else lower + step  # never over the first range
            made.append(partitioning.create_partition(cursor, spec.table, spec.column, lower, upper,
                                                      LOCK_TIMEOUT_MS))
            lower = upper
    return made


def first_ranges() -> dict[str, datetime | None]:
    """Per class, the lower bound of its main table's first range (not the legacy partition's): rows before it
    are in the legacy or default partition, whose rows go by batch on time (the default never drops; the legacy
    partition drops whole only once its bound is past every tenant's days)."""
    found: dict[str, datetime | None] = {}
    with connection.cursor() as cursor:
        for spec in TABLES:
            if spec.model is not DeliveryAttempt:  # attempts go with their records
                lowers = [p.lower for p in partitioning.partitions(cursor, spec.table) if p.lower is not None]
                found[spec.history_class] = min(lowers, default=None)
    return found


def droppable(now: datetime | None = None) -> Iterator[tuple[PartitionedTable, partitioning.Partition]]:
    """The partitions whose whole range has expired for every tenant and that hold nothing that must live on
    (the rule at the top), records before attempts before events, oldest first. Lazily, table by table: a
    table's partitions are judged after the caller dropped the tables' before it (attempts go once their
    records have; a dry run, dropping nothing, shows less than a run would drop)."""
    if not enabled():
        return
    now = now or timezone.now()
    kept = longest_kept()
    for spec in sorted(TABLES, key=lambda s: ORDER.index(s.model)):
        days = kept[spec.history_class]
        if days is None:
            continue
        cutoff = now - timedelta(days=days)
        with connection.cursor() as cursor:
            candidates = [part for part in partitioning.partitions(cursor, spec.table)
                          if not part.is_default and part.upper is not None and part.upper <= cutoff]
        for part in candidates:
            if _holds_nothing_needed(spec, part):
                yield spec, part


ORDER = (NotificationRecord, DeliveryAttempt, Event, InAppMessage)


def longest_kept() -> dict[str, int | None]:
    """Per class, the most days any tenant keeps it (None: some tenant keeps it forever). An event's days are at
    least its records' (history/retention.py)."""
    kept: dict[str, int | None] = retention_days(None)
    for tenant in Tenant.objects.only("pk", "settings").iterator():
        for name, days in retention_days(tenant).items():
            current = kept[name]
            kept[name] = None if days is None or current is None else max(days, current)
    records, events = kept[RECORDS], kept[EVENTS]
    kept[EVENTS] = None if records is None or events is None else max(records, events)
    return kept


def _holds_nothing_needed(spec: PartitionedTable, part: partitioning.Partition) -> bool:
    upper = part.upper
    assert upper is not None  # noqa: S101 - ranges only
    if spec.model is NotificationRecord:
        return not NotificationRecord.objects.filter(created_at__lt=upper, status__in=CLAIMABLE,
                                                     **_within(part)).exists()
    if spec.model is DeliveryAttempt:  # a record's attempts start after it is made (CLOCK_SLACK: two clocks)
        owners = NotificationRecord.objects.filter(created_at__lt=upper + CLOCK_SLACK)
        if part.lower is not None:  # a record stuck open long ago holds no later week's attempts
            owners = owners.filter(created_at__gte=part.lower - ATTEMPTS_SPAN)
        return not owners.exists()
    if spec.model is Event:
        keys = {"event_id__lt": uuid7_floor(upper)}
        if part.lower is not None:
            keys["event_id__gte"] = uuid7_floor(part.lower - KEY_SLACK)
        records = NotificationRecord.objects.filter(**keys)
        fanouts = FanOut.objects.filter(state__in=OPEN_STATES, **keys)
        if part.lower is None:  # the legacy partition: its events may have random (version 4) keys, far above
            records |= NotificationRecord.objects.filter(event_id__gte=unmade_after(timezone.now()))
            fanouts = FanOut.objects.filter(state__in=OPEN_STATES, created_at__lt=upper + KEY_SLACK)
        return not (records.exists() or fanouts.exists())
    return True


def _within(part: partitioning.Partition) -> dict[str, datetime]:
    return {"created_at__gte": part.lower} if part.lower is not None else {}


def estimated_rows(part: partitioning.Partition) -> int:
    with connection.cursor() as cursor:
        return partitioning.estimated_rows(cursor, part.name)


def drop(spec: PartitionedTable, part: partitioning.Partition) -> int | None:
    """Drop one partition (droppable() said so); returns about how many rows it held (the planner's estimate:
    counting would read it whole), or None when, judged again under its lock, it must stay after all."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Writes into it wait from here (a record requeued by hand after the check would be dropped with it),
        # and what was judged is judged again under the lock; other partitions are not held up.
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{LOCK_TIMEOUT_MS}ms"])
        cursor.execute(f"LOCK TABLE {connection.ops.quote_name(part.name)} IN EXCLUSIVE MODE")
        if not _holds_nothing_needed(spec, part):
            return None
        rows = partitioning.estimated_rows(cursor, part.name)
        if spec.model is NotificationRecord:  # a dropped partition fires no trigger: its counts go with it (first,
            # so that waiting for a fold in progress does not hold the parent's lock the drop takes)
            assert part.upper is not None  # noqa: S101 - the default partition is never dropped
            record_counts.forget(cursor, part.lower, part.upper)
        partitioning.drop_partition(cursor, spec.table, part.name, LOCK_TIMEOUT_MS)
    logger.info("partition dropped: %s (about %d rows)", part.name, rows)
    return rows
