"""A month of history, and what the dashboard's and /metrics' queries cost on it (issue 20, point 6). EVENTS
events (default 10,000,000) over 30 days, two records each, across 20 tenants, written straight into PostgreSQL
with INSERT ... SELECT generate_series (not through the service) in chunks of a million; then each query of the
operator dashboard (web/views.py dashboard_data) and the /metrics records gauge, timed (best of 3).

    bash scripts/postgres.sh run .venv/bin/python bench/history_queries.py [EVENTS]"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

TENANTS = 20
DAYS = 30
CHUNK = 1_000_000


def preload(events: int) -> None:
    """Events with UUIDv7 keys of their time, and two records each (e-mail sent or failed, in-app sent); a few
    recent ones still open (pending, scheduled), as a live service has."""
    from django.db import connection

    from notifications.tenants.models import Tenant

    Tenant.objects.bulk_create([Tenant(id=f"hist-{n:02d}") for n in range(TENANTS)])
    step_ms = DAYS * 86_400_000 / events
    started = time.perf_counter()
    with connection.cursor() as cursor:
        # One series, two tables: a record's event key, tenant, user and time are worked out as its event's.
        series = ("FROM (SELECT n, now() - interval '%s days' + n * %s * interval '1 ms' AS t,"
                  " (lpad(to_hex((extract(epoch FROM now() - interval '%s days' + n * %s * interval '1 ms') * 1000)"
                  "::bigint), 12, '0') || '7' || substr(md5(n::text), 1, 3) || '8' || substr(md5(n::text), 4, 15))"
                  "::uuid AS id, 'hist-' || lpad((n %% %s)::text, 2, '0') AS tenant_id, 'user-' || (n %% 50000)"
                  " AS user_id FROM generate_series(%s, %s) n) s")
        for first in range(1, events + 1, CHUNK):
            last = min(first + CHUNK - 1, events)
            params = [DAYS, step_ms, DAYS, step_ms, TENANTS, first, last]
            cursor.execute(
                "INSERT INTO notifications_event (id, tenant_id, event_type, event_id, dedupe_key, user_id,"
                " occurred_at, payload, metadata, source, received_at) SELECT id, tenant_id, 'task.assigned', '',"
                " 'h-' || n, user_id, t, '{\"task_id\": \"T\"}', '{}', 'bench', t " + series, params)
            cursor.execute(
                "INSERT INTO notifications_notificationrecord (tenant_id, event_id, event_type, user_id, channel,"
                " recipient, status, reason, error_detail, provider, provider_message_id, attempts, cancel_key, lane,"
                " created_at, updated_at, sent_at)"
                " SELECT tenant_id, id, 'task.assigned', user_id, c.channel, user_id || '@example.com',"
                " CASE WHEN c.channel = 'email' AND n %% 10 = 7 THEN 'failed' ELSE 'sent' END,"
                " CASE WHEN c.channel = 'email' AND n %% 10 = 7 THEN 'smtp_550' ELSE '' END,"
                " '', 'smtp', 'm-1', 1, '', 0, t, t, t " + series
                + " CROSS JOIN (VALUES ('email'), ('in_app')) AS c(channel)", params)
            print(f"  {last:,} events ({time.perf_counter() - started:.0f} s)", flush=True)
        cursor.execute("UPDATE notifications_notificationrecord SET status = 'pending', sent_at = NULL"
                       " WHERE id > (SELECT max(id) - 500 FROM notifications_notificationrecord)")
    with connection.cursor() as cursor:  # outside a transaction: what a month of autovacuum would have done
        cursor.execute("VACUUM ANALYZE notifications_notificationrecord")
        cursor.execute("VACUUM ANALYZE notifications_event")
    print(f"preloaded {events:,} events and {2 * events:,} records over {DAYS} days in "
          f"{time.perf_counter() - started:.0f} s")


def timed(name: str, run: object) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        best = min(best, time.perf_counter() - started)
    print(f"  {name:<48} {1000 * best:9.1f} ms")
    return best


def measure() -> dict[str, float]:
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from notifications.observability.collectors import RecordsCollector
    from notifications.web.views import dashboard_data

    request = RequestFactory().get("/dashboard/data?hours=24")
    request.user = User(username="ops", is_staff=True, is_active=True)
    from datetime import timedelta

    from django.db.models import Count
    from django.db.models.functions import TruncHour
    from django.utils import timezone

    from notifications.audiences.progress import open_and_finished, with_record_counts
    from notifications.delivery.models import NotificationRecord

    since = timezone.now() - timedelta(hours=24)
    parts = {  # the dashboard's queries one by one
        "  its window GROUP BY": lambda: list(NotificationRecord.objects.filter(created_at__gte=since).annotate(
            hour=TruncHour("created_at")).values("hour", "channel", "status", "reason").annotate(n=Count("id"))
            .order_by()),
        "  its latest failures": lambda: list(NotificationRecord.objects.filter(status="failed")
                                               .order_by("-updated_at")[:20]),
        "  its waiting reasons": lambda: list(NotificationRecord.objects.filter(status="scheduled")
                                               .values("reason").annotate(count=Count("id")).order_by("-count")),
        "  its fan-outs": lambda: with_record_counts(open_and_finished(finished=5), most=3, budget_ms=300),
    }
    for name, part in parts.items():
        timed(name, part)
    return {
        "dashboard data (24 h)": timed("dashboard data (24 h)", lambda: dashboard_data(request)),
        "/metrics records gauge": timed("/metrics records gauge", lambda: list(RecordsCollector().collect())),
    }


def run(events: int) -> int:
    preload(events)
    print("query times, best of 3:")
    times = measure()
    return sum(1 for seconds in times.values() if seconds > 0.2)


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    common.standalone(lambda: run(events))


if __name__ == "__main__":
    main()
