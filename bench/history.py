"""The history workload of `make bench` (`--only history`, or `--history` in a full run; issue 20, point 6): does
the service cost the same after a month of history?

In one run: a month of history preloaded straight into PostgreSQL, in a database of its own
(bench/history_seed.py: 10,000,000 events, 20,000,000 records, their attempts and inbox messages, over 30 days,
20 tenants); then intake (Kafka -> records), HTTP delivery and the end-to-end latency, in rounds alternating
between the run's fresh database and the history (the shared machine's load changes by the minute: alternating
puts it on both alike); the mean of the history rounds next to the mean of the fresh ones (the "ceiling" column
holds the fresh figure, the ratio is history / fresh; the bound is 15%); the operator dashboard's and /metrics'
queries against 200 ms. Last, the end-to-end workload once more on the history with the workers' retention sweep
pruning: the preload tenants keep 28 days, so the two oldest days of the preload (a fifteenth) have expired, and
the workers sweep every 5 s (for at most RETENTION_BUDGET_SECONDS, 0.5 s by default) instead of every 300 s.

The workloads are run.py's and e2e.py's own; between them `harness.clear()` empties the fresh database and, on
the history, deletes the other tenants' rows and keeps the history (KEPT_TENANTS)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import timedelta

from django.core.management import call_command

from bench import common, harness, history_seed
from bench.e2e import bench_end_to_end
from bench.harness import RESULTS, VERDICTS, record

FRESH, HISTORY, PRUNING = "fresh database", "on history", "on history, pruning: "
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
                  events: int, e2e: tuple[int, int, int], rounds: int = 2) -> None:
    """`workloads`: the intake and HTTP delivery workloads of run.py, ready to call; `e2e`: rate, seconds and
    worker processes of the end-to-end workload; `events`: events of the preload (two records each). The history
    goes into a database of its own; the fresh rounds run on `database_url`, alternating with the history rounds
    (`rounds` of each), so that the shared machine's load falls on both alike."""
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

    history_url = common.fresh_database()
    try:
        _use(history_url)
        call_command("migrate", verbosity=0)
        tenants = history_seed.tenant_ids(20)
        started = time.perf_counter()
        counts = history_seed.preload(events, tenants=tenants)
        record("history: preload (INSERT ... SELECT, VACUUM ANALYZE)",
               counts["records"] / (time.perf_counter() - started), "records/s", None,
               ", ".join(f"{count:,} {table}" for table, count in counts.items())
               + f" over 30 days, 20 tenants, in {time.perf_counter() - started:.0f} s")
        for n in range(1, rounds + 1):
            _use(database_url)
            phase(f"{FRESH}, round {n}: ")
            _use(history_url)
            harness.KEPT_TENANTS = history_seed.PREFIX
            try:
                phase(f"{HISTORY}, round {n}: ")
            finally:
                harness.KEPT_TENANTS = None
        _compare(rounds)
        _queries()
        harness.KEPT_TENANTS = history_seed.PREFIX
        _pruning(bootstrap, history_url, tenants, rate, seconds, workers, rounds)
    finally:
        harness.KEPT_TENANTS = None
        _use(database_url)
        common.drop_database(history_url)


def _use(url: str) -> None:
    """This process and the service's processes it starts work on the database at `url` from now on."""
    from django.db import connections

    connection = connections["default"]
    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()
    connection.settings_dict["NAME"] = url.rsplit("/", 1)[1]
    os.environ["DATABASE_URL"] = url


def _mean(label: str, name: str, rounds: int) -> float | None:
    by_name = {row["name"]: row["value"] for row in RESULTS}
    values = [by_name.get(f"{label}, round {n}: {name}") for n in range(1, rounds + 1)]
    found = [value for value in values if value is not None]
    return sum(found) / len(found) if found else None


def _compare(rounds: int, pruning: str | None = None) -> None:
    """The mean of the history rounds next to the mean of the fresh ones (the fresh figure as the ceiling: the
    report's ratio column), and a verdict against the bound. `pruning`: the label of a single e2e run to compare
    instead of the history rounds."""
    by_name = {row["name"]: row for row in RESULTS}
    for name, better in COMPARED:
        before = _mean(FRESH, name, rounds)
        if pruning is not None:
            if not name.startswith("end to end"):
                continue
            row = by_name.get(pruning + name)
            after, label = (row["value"] if row else None), pruning.rstrip(": ")
        else:
            after, label = _mean(HISTORY, name, rounds), f"{HISTORY} / {FRESH} (mean of {rounds} rounds each)"
        if after is None or before is None:
            VERDICTS.append(f"- {label}: {name} within {BOUND:.0%} of the fresh database's: not measured")
            continue
        unit = next(row["unit"] for row in RESULTS if row["name"].endswith(name))
        if pruning is not None:
            by_name[pruning + name]["ceiling"] = before
        else:
            record(f"{label}: {name}", after, unit, before, "ceiling column: the fresh database's mean")
        change = after / before - 1
        met = change >= -BOUND if better == "higher" else change <= BOUND
        VERDICTS.append(f"- {label}: {name} within {BOUND:.0%} of the fresh database's: {'met' if met else 'NOT met'}"
                        f" ({after:,.0f} vs {before:,.0f} {unit}, {change:+.1%})")


def _queries() -> None:
    from bench.history_queries import measure

    for name, best in measure().items():
        record(f"history: {name}", best * 1000, "ms", None, "best of 3, on the preloaded history"
               + (" (database queries; the Kafka lag panel not included)" if "dashboard" in name else ""))
        VERDICTS.append(f"- history: {name} under {QUERY_MS} ms: {'met' if best * 1000 < QUERY_MS else 'NOT met'}"
                        f" ({best * 1000:,.0f} ms)")


def _pruning(bootstrap: str, database_url: str, tenants: list[str], rate: int, seconds: int, workers: int,
             rounds: int) -> None:
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
    _compare(rounds, pruning=PRUNING)
    harness.clear()
