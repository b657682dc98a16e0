"""How long a worker's retention sweep holds it (issue 20 point 2): a preloaded history whose tenants keep 28
days (the two oldest of 30 days expired), then RetentionSweep-sized prune() calls (budget 0.5 s) one after the
other, each timed, with where its time went (pg_stat_statements is not needed: each step is timed in Python).

    bash scripts/postgres.sh run .venv/bin/python bench/prune_sweep_cost.py [EVENTS] [CALLS]"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, history_seed


def run(events: int, calls: int) -> int:
    from django.db import connection

    from notifications.history import retention

    tenants = history_seed.tenant_ids(20)
    history_seed.preload(events, tenants=tenants)
    history_seed.set_retention(tenants, 28)
    timings: dict[str, float] = {}
    original = retention._delete_batch

    def timed_batch(query, delete):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        count = original(query, delete)
        name = query.model._meta.model_name
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - started
        return count

    retention._delete_batch = timed_batch
    resume = None
    slowest = 0.0
    for call in range(calls):
        timings.clear()
        started = time.perf_counter()
        report = retention.prune(budget=0.5, resume=resume)
        took = time.perf_counter() - started
        slowest = max(slowest, took)
        resume = report.resume
        spent = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items())
        print(f"call {call + 1}: {took:.2f} s, deleted {report.deleted}, batches: {spent}", flush=True)
        if report.finished:
            break
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM notifications_notificationrecord")
        print(f"records left: {cursor.fetchone()[0]:,}; slowest call {slowest:.2f} s")
    return 0


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    calls = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    common.standalone(lambda: run(events, calls))


if __name__ == "__main__":
    main()
