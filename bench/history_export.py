"""The history export at a million rows (issue 20, point 3): EVENTS events (default 200,000), three records each and
one attempt for every third record, written straight into PostgreSQL with INSERT ... SELECT generate_series (not
through the service), then `export_rows` as JSON Lines into /dev/null. Prints rows/s and the process's resident
memory at each tenth of the export: it must stay flat (one chunk is held at a time).

    bash scripts/postgres.sh run .venv/bin/python bench/history_export.py [EVENTS]"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.fanout import rss_mib

TENANT = "bench-history"


def seed(events: int) -> None:
    from django.db import connection

    from notifications.tenants.models import Tenant

    Tenant.objects.create(id=TENANT)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO notifications_event (id, tenant_id, event_type, event_id, dedupe_key, user_id, occurred_at,"
            " payload, metadata, source, received_at) SELECT gen_random_uuid(), %s, 'task.assigned', '', 'k' || n,"
            " 'user-' || (n %% 5000), now() - interval '1 day' + n * interval '1 ms',"
            " jsonb_build_object('user_id', 'user-' || (n %% 5000), 'task_id', 'T-' || n, 'task_title', 'Review',"
            " 'code', jsonb_build_object('$enc', 'sealed')), '{}', 'bench',"
            " now() - interval '1 day' + n * interval '1 ms' FROM generate_series(1, %s) AS n", [TENANT, events])
        cursor.execute(
            "INSERT INTO notifications_notificationrecord (tenant_id, event_id, event_type, user_id, channel,"
            " recipient, status, reason, error_detail, provider, provider_message_id, attempts, cancel_key, lane,"
            " created_at, updated_at, sent_at) SELECT e.tenant_id, e.id, e.event_type, e.user_id, c.channel,"
            " e.user_id || '@example.com', 'sent', '', '', 'smtp', 'm-1', 1, '', 0, e.received_at, e.received_at,"
            " e.received_at FROM notifications_event e CROSS JOIN (VALUES ('email'), ('sms'), ('push')) AS c(channel)"
            " WHERE e.tenant_id = %s", [TENANT])
        cursor.execute(
            "INSERT INTO notifications_deliveryattempt (record_id, tenant_id, provider, started_at, duration_ms,"
            " outcome, error_code, error_detail, provider_message_id) SELECT r.id, r.tenant_id, 'smtp', r.created_at,"
            " 12, 'sent', '', '', 'm-1' FROM notifications_notificationrecord r WHERE r.tenant_id = %s"
            " AND r.id %% 3 = 0", [TENANT])
        cursor.execute("ANALYZE")
    print(f"seeded {events:,} events with records and attempts in {time.perf_counter() - started:.1f} s")


def run(events: int) -> int:
    from notifications.history.export import ExportQuery, export_rows
    from notifications.history.formats import stream

    seed(events)
    query = ExportQuery(TENANT, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    memory: list[tuple[int, float]] = []
    tenth = max(events // 10, 1)

    def progress(done: int) -> None:
        if not memory or done // tenth > memory[-1][0] // tenth:
            memory.append((done, rss_mib()))

    rows = 0
    size = 0
    started = time.perf_counter()
    cpu = time.process_time()
    with open("/dev/null", "wb") as sink:
        counted = export_rows(query, progress=progress)

        def count() -> object:
            nonlocal rows
            for row in counted:
                rows += 1
                yield row

        for piece in stream(count(), "jsonl"):
            size += len(piece)
            sink.write(piece)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    growth = memory[-1][1] - memory[1][1] if len(memory) > 1 else 0.0
    print(f"exported {rows:,} rows ({size / 2**20:,.0f} MiB of JSON Lines) in {wall:.1f} s: {rows / wall:,.0f} rows/s,"
          f" Python {cpu / rows * 1e6:.1f} us a row")
    print("resident memory (MiB) at each tenth of the events: "
          + ", ".join(f"{done:,}: {mib:.0f}" for done, mib in memory) + f"; growth after the first tenth {growth:+.1f}")
    return int(growth > 20)


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    common.standalone(lambda: run(events))


if __name__ == "__main__":
    main()
