"""The history workload of `make bench` (`--only history`, or `--history` in a full run; issue 20, point 6): does
the service cost the same after a month of history?

In one run, on one database: intake (Kafka -> records), HTTP delivery and the end-to-end latency on the fresh
database; then a month of history preloaded straight into PostgreSQL (bench/history_seed.py: 10,000,000 events,
20,000,000 records, their attempts and inbox messages, over 30 days, 20 tenants); then the same three workloads
again, each history figure next to its fresh one (the "ceiling" column holds the fresh figure, the ratio is
history / fresh; the bound is 15%), and the operator dashboard's and /metrics' queries against 200 ms. Last,
the end-to-end workload once more with the workers' retention sweep pruning: the preload tenants keep 28 days,
so the two oldest days of the preload (a fifteenth) have expired, and the workers sweep every 5 s (for at most
RETENTION_BUDGET_SECONDS, 0.5 s by default) instead of every 300 s.

The workloads are run.py's and e2e.py's own; between them `harness.clear()` deletes the other tenants' rows and
keeps the history (KEPT_TENANTS)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bench import harness, history_seed
from bench.e2e import bench_end_to_end
from bench.harness import RESULTS, VERDICTS, record

FRESH, HISTORY, PRUNING = "fresh database: ", "on history: ", "on history, pruning: "
#: The preload tenants' retention in the pruning phase (the preload spans 30 days).
RETENTION_DAYS = 28
SWEEP_SECONDS = "5"
# (measurement, better): what is compared fresh against history.
COMPARED = [("intake: Kafka -> records committed", "higher"),
            ("delivery: SMS via HTTP provider to loopback", "higher"),
            ("end to end p99 (in_app)", "lower"), ("end to end p99 (email)", "lower"),
            ("end to end p99 (sms)", "lower")]
BOUND = 0.15
QUERY_MS = 200


def bench_history(bootstrap: str, database_url: str, workloads: dict[str, Callable[[], None]],
                  events: int, e2e: tuple[int, int, int]) -> None:
    """`workloads`: the intake and HTTP delivery workloads of run.py, ready to call; `e2e`: rate, seconds and
    worker processes of the end-to-end workload; `events`: events of the preload (two records each)."""
    rate, seconds, workers = e2e

    def phase(label: str) -> None:
        harness.LABEL = label
        try:
            for run in workloads.values():
                run()
            bench_end_to_end(bootstrap, database_url, rate, seconds, workers)
            harness.clear()
        finally:
            harness.LABEL = ""

    phase(FRESH)
    fresh = {row["name"][len(FRESH):]: row for row in RESULTS if row["name"].startswith(FRESH)}
    tenants = history_seed.tenant_ids(20)
    started = time.perf_counter()
    counts = history_seed.preload(events, tenants=tenants)
    record("history: preload (INSERT ... SELECT, VACUUM ANALYZE)", counts["records"] / (time.perf_counter() - started),
           "records/s", None, ", ".join(f"{count:,} {table}" for table, count in counts.items())
           + f" over 30 days, 20 tenants, in {time.perf_counter() - started:.0f} s")
    harness.KEPT_TENANTS = history_seed.PREFIX
    try:
        phase(HISTORY)
        _compare(fresh)
        _queries()
        _pruning(bootstrap, database_url, tenants, rate, seconds, workers, fresh)
    finally:
        harness.KEPT_TENANTS = None


def _compare(fresh: dict[str, dict[str, Any]], label: str = HISTORY, only: str = "") -> None:
    """Each history row (those whose names start with `only`) gets its fresh figure as the ceiling (the report's
    ratio column), and a verdict."""
    by_name = {row["name"]: row for row in RESULTS}
    for name, better in (item for item in COMPARED if item[0].startswith(only)):
        row, before = by_name.get(label + name), fresh.get(name)
        if row is None or before is None:
            VERDICTS.append(f"- {label}{name} within {BOUND:.0%} of the fresh database's: not measured")
            continue
        row["ceiling"] = before["value"]
        change = row["value"] / before["value"] - 1
        met = change >= -BOUND if better == "higher" else change <= BOUND
        VERDICTS.append(f"- {label}{name} within {BOUND:.0%} of the fresh database's: {'met' if met else 'NOT met'}"
                        f" ({row['value']:,.0f} vs {before['value']:,.0f} {row['unit']}, {change:+.1%})")


def _queries() -> None:
    from bench.history_queries import measure

    for name, best in measure().items():
        record(f"history: {name}", best * 1000, "ms", None, "best of 3, on the preloaded history"
               + (" (database queries; the Kafka lag panel not included)" if "dashboard" in name else ""))
        VERDICTS.append(f"- history: {name} under {QUERY_MS} ms: {'met' if best * 1000 < QUERY_MS else 'NOT met'}"
                        f" ({best * 1000:,.0f} ms)")


def _pruning(bootstrap: str, database_url: str, tenants: list[str], rate: int, seconds: int, workers: int,
             fresh: dict[str, dict[str, Any]]) -> None:
    """The end-to-end workload again while the workers' retention sweep deletes the expired part of the preload."""
    from django.db import connection
    from django.utils import timezone

    history_seed.set_retention(tenants, RETENTION_DAYS)
    cutoff = timezone.now() - timedelta(days=RETENTION_DAYS)

    def expired() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM notifications_notificationrecord WHERE tenant_id = ANY(%s)"
                           " AND created_at < %s", [tenants, cutoff])
            return cursor.fetchone()[0]

    before = expired()
    os.environ["NOTIFICATIONS_RETENTION_INTERVAL_SECONDS"] = SWEEP_SECONDS
    harness.LABEL = PRUNING
    try:
        bench_end_to_end(bootstrap, database_url, rate, seconds, workers)
    finally:
        harness.LABEL = ""
        del os.environ["NOTIFICATIONS_RETENTION_INTERVAL_SECONDS"]
        history_seed.set_retention(tenants, None)
    pruned = before - expired()
    record("history: expired records pruned during the e2e run", pruned, "records", None,
           f"of {before:,} expired ({RETENTION_DAYS}-day retention on the preload tenants); workers sweeping every "
           f"{SWEEP_SECONDS} s for at most 0.5 s each")
    _compare(fresh, PRUNING, only="end to end")
    harness.clear()
