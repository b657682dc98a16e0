"""Notification records counted by the hour they were made, for the operator dashboard (web/views.py): how many
of each tenant's records of an hour are now in each status, with each reason, on each channel. The rule, in one
place:

- **What is counted**: every record, once, under (hour of `created_at` in UTC, tenant, channel, status, reason).
  A record whose status or reason changes moves from one count to another; a deleted record leaves its count.
- **Who keeps it**: the database, in the statement that changes the records (triggers on the records table,
  migration 0020): intake's COPY, the delivery loop's updates, the API's cancels and retries, retention's deletes,
  erasure, a hand-written UPDATE or TRUNCATE of the records table in psql alike. On PostgreSQL one
  statement-level trigger per kind of statement reads the statement's rows (transition tables), groups them and
  adds the differences to the counts; on SQLite (one writer, small data) a row-level trigger adds one.
- **What escapes it**: a statement naming one of the table's partitions (`..._p20261203`, `..._default`):
  PostgreSQL fires the table's triggers only for statements on the table itself. `manage.py record_counts` says
  whether the counts match the records; `--recount` counts them again (holding writes to the records while it
  reads them: 9.7 s at 20,000,000 records). A migration that makes Django rebuild the records table on SQLite
  drops its triggers: tests/observability/test_record_counts.py checks that they exist after every migration.
- **No waiting between writers** (PostgreSQL): each connection adds to counter rows of its own (`writer` = its
  backend pid), so two workers finishing sends of the same tenant and hour at once never wait for each other's
  transaction. `compact()` (each worker's retention sweep, hourly) folds the writers' rows of closed hours into
  one (`writer` 0), skipping any a transaction holds at that moment.
- **Dropped partitions** (history/partitions.py) take their records without a trigger firing: `forget()` removes
  the counts of the dropped range in the same transaction.
- **Read**: `window(since)` sums the counts of the hours from `since`'s hour on (the dashboard's "last 24 hours"
  starts at the top of the first hour): a few thousand rows for a day, whatever the size of the records table
  (it was a GROUP BY over every record of the window: 349-365 ms for the 667,000 of a day at 20,000,000
  records; now 6.3 ms, bench/README.md "History with hourly record counts").

The counts are exact, not sampled, and as fresh as the last commit: a record's change and its count's change
commit (or roll back) together."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from notifications.delivery.models import NotificationRecord
from notifications.observability.models import RecordCount

#: One folder of counts at a time, and no folding while a dropped partition's counts are removed.
_LOCK = "record_counts"
#: Folding skips the rows writers hold and so waits on nothing; were it ever to, it gives up after this long.
LOCK_TIMEOUT_MS = 1000
_KEY = ("hour", "tenant_id", "channel", "status", "reason")


def window(since: datetime) -> list[dict[str, Any]]:
    """The counts of every hour from `since`'s on, all tenants: rows of hour, channel, status, reason and n (the
    sum over tenants and writers; keys whose records all moved on are left out)."""
    first_hour = since.replace(minute=0, second=0, microsecond=0)
    rows = (RecordCount.objects.filter(hour__gte=first_hour)
            .values("hour", "channel", "status", "reason").annotate(count=Sum("n")).exclude(count=0).order_by())
    return [dict(row) for row in rows]


def compact(now: datetime | None = None) -> int:
    """Fold every writer's counter rows of the hours before now's into one row per key (`writer` 0) and remove
    the keys left at zero. Rows a transaction holds are skipped (folded next time), so this never waits on a
    writer; and writers never wait long on it (one statement over the rows not yet folded, read through a
    partial index of them). SQLite has one writer: only the zeros go. Returns how many keys were folded into."""
    before = (now or timezone.now()).replace(minute=0, second=0, microsecond=0)
    table, key = RecordCount._meta.db_table, ", ".join(_KEY)
    if connection.vendor != "postgresql":
        RecordCount.objects.filter(n=0, hour__lt=before).delete()
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [_LOCK])
        if not cursor.fetchone()[0]:
            return 0  # another worker is at it
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{LOCK_TIMEOUT_MS}ms"])  # never, but bounded
        cursor.execute(
            f"WITH moved AS (DELETE FROM {table} WHERE id IN ("  # noqa: S608 - the model's names
            f"  SELECT id FROM {table} WHERE writer <> 0 AND hour < %s FOR UPDATE SKIP LOCKED)"
            f"  RETURNING {key}, n) "
            f"INSERT INTO {table} AS kept ({key}, writer, n) "
            f"SELECT {key}, 0, sum(n) FROM moved GROUP BY {key} ORDER BY {key} "
            f"ON CONFLICT ({key}, writer) DO UPDATE SET n = kept.n + excluded.n RETURNING hour", [before])
        hours = [row[0] for row in cursor.fetchall()]
        if hours:  # the keys folded into that came to zero (from the earliest hour folded: the key's index)
            cursor.execute(f"DELETE FROM {table} WHERE writer = 0 AND n = 0 AND hour >= %s AND hour < %s",  # noqa: S608
                           [min(hours), before])
    return len(hours)


def forget(cursor: Any, lower: datetime | None, upper: datetime) -> int:
    """Remove the counts of the records made in [lower, upper) (lower None: everything before upper), in the
    caller's transaction: their partition is being dropped. Waits for a fold in progress (the caller's
    lock_timeout bounds the wait)."""
    cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [_LOCK])
    table = RecordCount._meta.db_table
    if lower is None:
        cursor.execute(f"DELETE FROM {table} WHERE hour < %s", [upper])  # noqa: S608 - the model's name
    else:
        cursor.execute(f"DELETE FROM {table} WHERE hour >= %s AND hour < %s", [lower, upper])  # noqa: S608
    return int(cursor.rowcount)


def _grouped(cursor: Any, sql: str) -> dict[tuple[Any, ...], int]:
    """Rows of (hour, *key, n) by key, the hour as 'YYYY-MM-DD HH' (SQLite gives the table's hours as datetimes
    and the expression's as text)."""
    cursor.execute(sql)
    return {(str(row[0])[:13], *row[1:-1]): int(row[-1]) for row in cursor.fetchall() if row[-1]}


def _hour_of_records() -> str:
    """The hour of a record's created_at in SQL, as the triggers compute it (migration 0020)."""
    if connection.vendor == "postgresql":
        return "date_trunc('hour', created_at, 'UTC')"
    return "substr(created_at, 1, 13) || ':00:00'"


def drift() -> list[tuple[tuple[Any, ...], int, int]]:
    """The keys (hour as 'YYYY-MM-DD HH' in UTC, tenant, channel, status, reason) whose count differs from their
    records, with both numbers, read in one snapshot. Reads the whole records table."""
    counts, records = RecordCount._meta.db_table, NotificationRecord._meta.db_table
    key = ", ".join(_KEY[1:])
    nested = connection.in_atomic_block  # (a caller's transaction keeps its own isolation)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql" and not nested:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        counted = _grouped(cursor, f"SELECT hour, {key}, sum(n) FROM {counts} GROUP BY hour, {key}")  # noqa: S608
        recorded = _grouped(cursor, f"SELECT {_hour_of_records()} AS hour, {key}, count(*) "  # noqa: S608
                                    f"FROM {records} GROUP BY 1, {key}")
    return sorted(((k, counted.get(k, 0), recorded.get(k, 0)) for k in counted.keys() | recorded.keys()
                   if counted.get(k, 0) != recorded.get(k, 0)), key=str)


def recount() -> int:
    """Count the records again, from scratch: the counts are replaced in one transaction that holds writes to the
    records meanwhile (PostgreSQL: SHARE ROW EXCLUSIVE, as migration 0020; SQLite: its one writer). Returns
    how many keys there are."""
    counts, records = RecordCount._meta.db_table, NotificationRecord._meta.db_table
    key = ", ".join(_KEY[1:])
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {records} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {counts}")  # noqa: S608 - the model's name
        cursor.execute(f"INSERT INTO {counts} (hour, {key}, writer, n) "  # noqa: S608 - the models' names
                       f"SELECT {_hour_of_records()}, {key}, 0, count(*) FROM {records} GROUP BY 1, {key}")
        return int(cursor.rowcount)
