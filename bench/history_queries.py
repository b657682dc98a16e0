"""A month of history, and what the dashboard's and /metrics' queries cost on it (issue 20, point 6). EVENTS
events (default 10,000,000) over 30 days, two records each with their attempts and inbox messages, across 20
tenants, written straight into PostgreSQL (bench/history_seed.py, not through the service); then each query of the
operator dashboard (web/views.py dashboard_data), the /metrics records gauge and intake's rate-limit read of 500
users' records, timed (best of 3).

    bash scripts/postgres.sh run .venv/bin/python bench/history_queries.py [EVENTS]
    bash scripts/postgres.sh run .venv/bin/python bench/history_queries.py --existing   # no preload, no drop"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, history_seed


def preload(events: int) -> None:
    """Events with UUIDv7 keys of their time, two records each (e-mail sent, failed or cancelled; in-app sent),
    their attempts and inbox messages; a few recent records still open (history_seed.preload)."""
    history_seed.preload(events)


def timed(name: str, run: object) -> float:
    """Best of 3 (the first, with cold caches and plans, printed too)."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        run()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    print(f"  {name:<48} {1000 * min(times):9.1f} ms (first {1000 * times[0]:.1f} ms)")
    return min(times)


def measure() -> dict[str, float]:
    from django.contrib.auth.models import User
    from django.test import RequestFactory

    from notifications.observability import record_counts
    from notifications.observability.collectors import RecordsCollector
    from notifications.web.views import dashboard_data

    request, fortnight = (RequestFactory().get(f"/dashboard/data?hours={hours}") for hours in (24, 336))
    request.user = fortnight.user = User(username="ops", is_staff=True, is_active=True)
    from datetime import timedelta

    from django.db.models import Count
    from django.utils import timezone

    from notifications.audiences.progress import open_and_finished, with_record_counts
    from notifications.delivery.models import NotificationRecord

    since = timezone.now() - timedelta(hours=24)
    parts = {  # the dashboard's queries one by one
        "  its window's hourly counts": lambda: record_counts.window(since),
        "  its latest failures": lambda: list(NotificationRecord.objects.filter(status="failed")
                                               .order_by("-updated_at")[:20]),
        "  its waiting reasons": lambda: list(NotificationRecord.objects.filter(status="scheduled")
                                               .values("reason").annotate(count=Count("id")).order_by("-count")),
        "  its fan-outs": lambda: with_record_counts(open_and_finished(finished=5), most=3, budget_ms=300),
    }
    for name, part in parts.items():
        timed(name, part)
    with mock.patch("notifications.web.views._lag", return_value={}):  # Kafka's admin client, not a query
        dashboard = timed("dashboard data (24 h)", lambda: dashboard_data(request))
        longest = timed("dashboard data (14 days, its longest window)", lambda: dashboard_data(fortnight))
    day, month = (timed(f"rate limits: 500 users' records, a {name} rule", _rate_limit_read(seconds))
                  for name, seconds in (("day's", 86_400), ("31-day", 31 * 86_400)))
    return {
        "rate-limit read, a day's rule": day,
        "rate-limit read, a 31-day rule": month,
        "dashboard data (24 h)": dashboard,
        "dashboard data (14 days)": longest,
        "/metrics records gauge": timed("/metrics records gauge", lambda: list(RecordsCollector().collect())),
    }


def _rate_limit_read(seconds: int) -> object:
    """Intake's rate-limit read (intake/ratelimits.py) for a batch of 500 users of one tenant, with one rule of
    `seconds` on an event type: their counted records of the window, through the index by user."""
    from notifications.intake.ratelimits import RateLimiter
    from notifications.tenants.models import Tenant

    tenant_id, event_type = history_seed.RATE_LIMITED  # the records the preload marks counted
    tenant = Tenant(id=tenant_id, settings={"rate_limits": {event_type: {"*": {"limit": 10, "per_seconds": seconds}}}})
    # Users of the first tenant: event n goes to tenant n % 20 and user n % 50,000 (history_seed's defaults).
    keys = [(tenant.id, f"user-{20 * n}", event_type) for n in range(500)]
    return lambda: RateLimiter.load({tenant.id: tenant}, keys)


def run(events: int) -> int:
    preload(events)
    print("query times, best of 3:")
    times = measure()
    return sum(1 for seconds in times.values() if seconds > 0.2)


def main() -> None:
    if sys.argv[1:] == ["--existing"]:  # the queries on DATABASE_URL's database as it is (a kept preload)
        import os

        import django

        os.environ.update(DJANGO_SETTINGS_MODULE="notification_service.settings", LOG_LEVEL="WARNING")
        django.setup()
        measure()
        return
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000
    common.standalone(lambda: run(events))


if __name__ == "__main__":
    main()
