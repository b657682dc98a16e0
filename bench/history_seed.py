"""History written straight into PostgreSQL (issue 20, point 6: "generated with COPY, not through the service"):
events, their notification records, delivery attempts and inbox messages spread evenly over a span of days, for
the benchmarks that need a long history (history_queries.py, history_export.py, prune_during_intake.py, and the
`history` workload of run.py).

Rows are made by the server with INSERT ... SELECT over generate_series, in chunks of CHUNK events (one
transaction each). It is the bulk path the issue means by COPY (nothing goes through the service: no intake, no
ORM, one statement a table and chunk) without the client: COPY FROM STDIN would have Python build and format every
row and send it through the socket (~3.5 GB of heap at 20M records) for PostgreSQL to parse back, where here the
rows never leave the server; either way the time goes to the tables' indexes (9 on records), which both pay alike.
Not measured against COPY (the seeding was INSERT ... SELECT before this module and stays so); what it takes is
printed per table (bench/README.md, "History": 10M events, 20M records, 9.8M attempts, 10M inbox messages in
~11 minutes on the shared 2-core machine).

Every insert goes through one function per table (insert_events, insert_records, insert_attempts, insert_inbox),
each given the time range [start, end) of the rows it writes, and each calling `ensure_partitions` first: the one
place where time partitions covering that range will be made sure of, once the tables are partitioned by time
(issue 20, point 1).

    bash scripts/postgres.sh run .venv/bin/python bench/history_seed.py EVENTS   # into DATABASE_URL, kept"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CHUNK = 1_000_000
#: The tenants of the main history preload (run.py's history workload, history_queries.py).
PREFIX = "hist-"
#: The tenant and event type whose records a rate-limit rule counts (marked `rate_counted`, migration 0021).
RATE_LIMITED = (f"{PREFIX}00", "task.assigned")

# One row per event number n of the chunk: its time t, its UUIDv7 key of that time (as intake makes them, so the
# pruning finds old events by key), tenant and user. Parameters: start, step (ms), tenant ids (array), users,
# first n, last n.
_SERIES = (
    "FROM (SELECT n, t, (lpad(to_hex((extract(epoch FROM t) * 1000)::bigint), 12, '0') || '7'"
    " || substr(md5(n::text), 1, 3) || '8' || substr(md5(n::text), 4, 15))::uuid AS id,"
    " (%(tenants)s::text[])[1 + n %% cardinality(%(tenants)s::text[])] AS tenant_id,"
    " 'user-' || (n %% %(users)s) AS user_id FROM (SELECT n, %(start)s::timestamptz + n * %(step)s"
    " * interval '1 ms' AS t FROM generate_series(%(first)s::bigint, %(last)s::bigint) n) times) s")
_TYPES = "(ARRAY['task.assigned', 'comment.mentioned', 'content.liked', 'invoice.payment.failed'])[1 + n %% 4]"


@dataclass(frozen=True)
class Chunk:
    """Events first..last (numbers of the whole preload) and the time range [start, end) their rows fall in."""

    first: int
    last: int
    start: datetime
    end: datetime
    params: dict[str, Any]


def ensure_partitions(table: str, start: datetime, end: datetime) -> None:
    """Make sure `table` can take rows of [start, end) in their own time partitions (history/partitions.py; on
    PostgreSQL the migration made only the current range and those ahead): the ranges back to `start` are made,
    for every table at once (a catalog read per table when they exist)."""
    from notifications.history.partitions import ensure

    ensure(since=start)


def insert_events(cursor: Any, chunk: Chunk, sealed: bool) -> None:
    ensure_partitions("notifications_event", chunk.start, chunk.end)
    payload = ("jsonb_build_object('user_id', user_id, 'task_id', 'T-' || n, 'task_title', 'Review'"
               + (", 'code', jsonb_build_object('$enc', 'sealed'))" if sealed else ")"))
    cursor.execute(
        "INSERT INTO notifications_event (id, tenant_id, event_type, event_id, dedupe_key, user_id, occurred_at,"
        f" payload, metadata, source, received_at) SELECT id, tenant_id, {_TYPES}, '', 'h-' || n, user_id, t,"
        f" {payload}, '{{}}', 'bench', t " + _SERIES, chunk.params)
    # Their dedupe keys, as intake writes them (a month of keys: intake's dedupe insert meets a full index).
    cursor.execute("INSERT INTO notifications_eventkey (event_id, tenant_id, dedupe_key)"
                   " SELECT id, tenant_id, 'h-' || n " + _SERIES, chunk.params)


def insert_records(cursor: Any, chunk: Chunk, channels: Sequence[str]) -> None:
    """Final records, as a month-old history is: e-mail and the like sent, a tenth failed (smtp_550), one in 50
    cancelled (superseded); in-app sent. The first tenant's task.assigned records are counted by a rate-limit
    rule (`rate_counted`: RATE_LIMITED, read by history_queries.py)."""
    ensure_partitions("notifications_notificationrecord", chunk.start, chunk.end)
    cursor.execute(
        "INSERT INTO notifications_notificationrecord (tenant_id, event_id, event_type, user_id, channel, recipient,"
        " status, reason, error_detail, provider, provider_message_id, attempts, cancel_key, lane, created_at,"
        f" updated_at, sent_at, rate_counted) SELECT tenant_id, id, {_TYPES}, user_id, c.channel,"
        " CASE WHEN c.channel = 'in_app'"
        " THEN user_id ELSE user_id || '@example.com' END, CASE WHEN c.channel = 'in_app' THEN 'sent'"
        " WHEN n %% 10 = 7 THEN 'failed' WHEN n %% 50 = 3 THEN 'cancelled' ELSE 'sent' END,"
        " CASE WHEN c.channel = 'in_app' THEN '' WHEN n %% 10 = 7 THEN 'smtp_550' WHEN n %% 50 = 3 THEN"
        " 'superseded' ELSE '' END, '', 'smtp', 'm-' || n, 1, '', 0, t, t, t,"
        f" CASE WHEN tenant_id = %(limited)s AND {_TYPES} = %(limited_type)s THEN true END " + _SERIES
        + " CROSS JOIN unnest(%(channels)s::text[]) AS c(channel) ORDER BY n",
        {**chunk.params, "channels": list(channels), "limited": RATE_LIMITED[0], "limited_type": RATE_LIMITED[1]})


def insert_attempts(cursor: Any, chunk: Chunk, after_id: int, every: int) -> None:
    """One attempt for every `every`-th record of the chunk that is not in-app."""
    ensure_partitions("notifications_deliveryattempt", chunk.start, chunk.end)
    cursor.execute(
        "INSERT INTO notifications_deliveryattempt (record_id, tenant_id, provider, started_at, duration_ms, outcome,"
        " error_code, error_detail, provider_message_id) SELECT id, tenant_id, provider, created_at, 12,"
        " CASE WHEN status = 'failed' THEN 'failed' ELSE 'sent' END, reason, '', provider_message_id"
        " FROM notifications_notificationrecord WHERE id > %s AND channel <> 'in_app' AND status <> 'cancelled'"
        " AND id %% %s = 0 ORDER BY id", [after_id, every])


def insert_inbox(cursor: Any, chunk: Chunk, after_id: int) -> None:
    """One inbox message for each in-app record of the chunk, two thirds of them read."""
    ensure_partitions("notifications_inappmessage", chunk.start, chunk.end)
    cursor.execute(
        "INSERT INTO notifications_inappmessage (tenant_id, user_id, event_type, title, body, action_url, data,"
        " created_at, read_at, record_id) SELECT tenant_id, user_id, event_type, 'Task assigned', 'Review', '',"
        " '{}', created_at, CASE WHEN id %% 3 = 0 THEN NULL ELSE created_at + interval '1 hour' END, id"
        " FROM notifications_notificationrecord WHERE id > %s AND channel = 'in_app' ORDER BY id", [after_id])


def tenant_ids(count: int, prefix: str = PREFIX) -> list[str]:
    return [f"{prefix}{n:02d}" for n in range(count)]


def preload(events: int, *, days: float = 30, tenants: Sequence[str] | None = None, end: datetime | None = None,
            users: int = 50_000, channels: Sequence[str] = ("email", "in_app"), attempt_every: int = 1,
            inbox: bool = True, sealed: bool = False, open_tail: int = 500, vacuum: bool = True,
            progress: Callable[[str], None] = print) -> dict[str, int]:
    """`events` events evenly over the `days` before `end` (default now) across `tenants` (default 20 of
    PREFIX, created if missing), each with a record per channel, an attempt for every `attempt_every`-th record
    not in-app (0: none), an inbox message per in-app record (`inbox`). The newest `open_tail` records are left
    scheduled a year ahead (a live service has some open; none falls due during a benchmark). Then VACUUM
    ANALYZE (what a month of autovacuum would have done). Returns the rows written per table."""
    from django.db import connection
    from django.utils import timezone

    from notifications.tenants.models import Tenant

    tenants = list(tenants or tenant_ids(20))
    Tenant.ensure(tenants)
    end = end or timezone.now()
    begin = end - timedelta(days=days)
    step_ms = days * 86_400_000 / events
    counts = {"events": 0, "records": 0, "attempts": 0, "inbox": 0}
    seconds = dict.fromkeys(counts, 0.0)
    started = time.perf_counter()

    def timed(table: str, insert: Callable[..., None], *args: Any) -> None:
        began = time.perf_counter()
        insert(cursor, chunk, *args)
        counts[table] += cursor.rowcount
        seconds[table] += time.perf_counter() - began

    with connection.cursor() as cursor:
        for first in range(1, events + 1, CHUNK):
            last = min(first + CHUNK - 1, events)
            chunk = Chunk(first, last, begin + timedelta(milliseconds=first * step_ms),
                          begin + timedelta(milliseconds=(last + 1) * step_ms),
                          {"start": begin, "step": step_ms, "tenants": tenants, "users": users, "first": first,
                           "last": last})
            cursor.execute("SELECT coalesce(max(id), 0) FROM notifications_notificationrecord")
            after_id = cursor.fetchone()[0]
            timed("events", insert_events, sealed)
            timed("records", insert_records, channels)
            if attempt_every:
                timed("attempts", insert_attempts, after_id, attempt_every)
            if inbox and "in_app" in channels:
                timed("inbox", insert_inbox, after_id)
            progress(f"  {last:,} events ({time.perf_counter() - started:.0f} s: "
                     + ", ".join(f"{table} {spent:.0f} s" for table, spent in seconds.items()) + ")")
        if open_tail:
            cursor.execute(
                "UPDATE notifications_notificationrecord SET status = 'scheduled', reason = 'deliver_at', sent_at ="
                " NULL, next_attempt_at = now() + interval '365 days' WHERE id > (SELECT max(id) - %s FROM"
                " notifications_notificationrecord) AND tenant_id = ANY(%s)", [open_tail, tenants])
    if vacuum:
        began = time.perf_counter()
        with connection.cursor() as cursor:  # outside a transaction (Django's autocommit)
            for table in ("notificationrecord", "event", "deliveryattempt", "inappmessage"):
                cursor.execute(f"VACUUM ANALYZE notifications_{table}")
        progress(f"  VACUUM ANALYZE {time.perf_counter() - began:.0f} s")
    progress(f"preloaded {counts['events']:,} events, {counts['records']:,} records, {counts['attempts']:,} attempts"
             f" and {counts['inbox']:,} inbox messages over {days:g} days in {time.perf_counter() - started:.0f} s")
    return counts


def set_retention(tenants: Sequence[str], days: int | None) -> None:
    """Keep every class of the tenants' history `days` days (None: the service's defaults again)."""
    from notifications.history.settings import SETTING
    from notifications.tenants.models import Tenant

    for tenant in Tenant.objects.filter(pk__in=list(tenants)):
        settings = dict(tenant.settings or {})
        if days is None:
            settings.pop(SETTING, None)
        else:
            settings[SETTING] = {"events": days, "records": days, "inbox": days}
        tenant.settings = settings
        tenant.save(update_fields=["settings"])


def main() -> None:
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notification_service.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    preload(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)


if __name__ == "__main__":
    main()
