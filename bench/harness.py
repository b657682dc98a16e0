"""What every workload of `make bench` shares: the results table, Django's set-up on the benchmark's database
and broker, the service's management commands as subprocesses, and waiting for rows to appear."""

from __future__ import annotations

import os
import subprocess
import time
from typing import Any

from bench import common

RESULTS: list[dict[str, Any]] = []
#: Verdicts a workload adds to the report's targets (the history workload's bounds).
VERDICTS: list[str] = []
#: Put before every measurement's name (the history workload runs the same workloads in rounds on two databases:
#: "fresh database, round 1: ", "on history, round 1: ", ...).
LABEL = ""
#: Tenants whose rows clear() keeps (a preloaded history: the id prefix of its tenants); None: clear() empties.
KEPT_TENANTS: str | None = None


def record(name: str, value: float, unit: str, ceiling: float | None = None, note: str = "") -> None:
    name = LABEL + name
    row = {"name": name, "value": value, "unit": unit, "ceiling": ceiling, "note": note}
    RESULTS.append(row)
    ratio = f"{value / ceiling:.0%}" if ceiling else "-"
    print(f"  {name:<44} {value:>12,.1f} {unit:<10} ceiling {ceiling or 0:>12,.1f}  {ratio}", flush=True)


def clear() -> None:
    """Each workload starts from empty tables: pending records of one must not become work for the next. With a
    preloaded history (KEPT_TENANTS), only the other tenants' rows go (DELETE instead of TRUNCATE), then VACUUM
    (only the pages touched are read: the preload left the rest all-visible)."""
    from django.db import connection

    tables = ["notifications_deliveryattempt", "notifications_inappmessage", "notifications_notificationrecord",
              "notifications_event", "notifications_contact", "notifications_digestwindow", "notifications_fanout",
              "notifications_subscription", "notifications_topic", "notifications_eventkey"]
    others = "SELECT id FROM notifications_tenant WHERE id NOT LIKE %s"
    kept = [(KEPT_TENANTS or "").replace("_", r"\_") + "%"]
    with connection.cursor() as cursor:
        # A workload run again (the history workload's rounds) creates its tenant's provider again: the old one,
        # pointing at a sink that is gone, would head the chain.
        cursor.execute(f"DELETE FROM notifications_providerconfig WHERE tenant_id IN ({others})"  # noqa: S608
                       if KEPT_TENANTS else "DELETE FROM notifications_providerconfig", kept if KEPT_TENANTS else [])
        if KEPT_TENANTS is None:
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
            return
        cursor.execute("DELETE FROM notifications_deliveryattempt WHERE record_id IN (SELECT id FROM "  # noqa: S608
                       f"notifications_notificationrecord WHERE tenant_id IN ({others}))", kept)
        cursor.execute("DELETE FROM notifications_subscription WHERE topic_id IN (SELECT id FROM "  # noqa: S608
                       f"notifications_topic WHERE tenant_id IN ({others}))", kept)
        for table in (name for name in tables[1:] if name != "notifications_subscription"):
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id IN ({others})", kept)  # noqa: S608 - names above
        for table in tables[:4]:
            cursor.execute(f"VACUUM ANALYZE {table}")


def setup_django(database_url: str, bootstrap: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "notification_service.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def manage(*arguments: str, **env: str) -> subprocess.Popen:
    """A management command of the service, as a user would run it, on the benchmark's database and broker."""
    return subprocess.Popen([common.PY, str(common.ROOT / "manage.py"), *arguments],
                            env={**os.environ, "LOG_LEVEL": "WARNING", **env})


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    process.wait(timeout=60)


def wait_for(query: str, expected: int, process: subprocess.Popen, timeout: float = 600) -> tuple[float, int]:
    """Until `query` counts `expected` rows; fails if the process exits first or time runs out. Returns when
    (perf_counter) the first rows were seen and how many they were."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(query)
            seen = cursor.fetchone()[0]
            if seen and first is None:
                first = (time.perf_counter(), seen)
            if seen >= expected and first is not None:
                return first
            if process.poll() is not None:
                raise SystemExit(f"the service exited with {process.returncode} before finishing")
            time.sleep(0.25)  # a count costs the database: often enough to time to 1%, no more
    raise SystemExit(f"timed out waiting for {expected} rows: {query}")


def wait_for_tails(event_ids: list[str], process: subprocess.Popen, timeout: float = 600) -> tuple[float, int]:
    """Until the events named (each partition's last one, common.partition_tails) are committed; returns when
    (perf_counter) the first events were seen and how many they were. Polls a few keys in the dedupe index, and
    counts the table only once, at the first sight (when it is small). Keys are committed with their events (one
    transaction), so a key seen is an event in."""
    from django.db import connection

    keys = [f"id:{event_id}" for event_id in event_ids]
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            if first is None:
                cursor.execute("SELECT EXISTS (SELECT 1 FROM notifications_event WHERE tenant_id = 'bench')")
                if cursor.fetchone()[0]:
                    seen_at = time.perf_counter()
                    cursor.execute("SELECT count(*) FROM notifications_event WHERE tenant_id = 'bench'")
                    first = (seen_at, cursor.fetchone()[0])
            # The dedupe keys' own table and its unique index (the events table has no index on the key since
            # migration 0018: counting there read every event of the run 20 times a second, a quarter of
            # PostgreSQL's time during the intake workload, 2026-12-06).
            cursor.execute("SELECT count(*) FROM notifications_eventkey WHERE tenant_id = 'bench' "
                           "AND dedupe_key = ANY(%s)", [keys])
            if first is not None and cursor.fetchone()[0] == len(keys):
                return first
            if process.poll() is not None:
                raise SystemExit(f"the service exited with {process.returncode} before finishing")
            time.sleep(0.05)
    raise SystemExit(f"timed out waiting for the last events of every partition: {event_ids}")
