"""Intake alone on a kept history against a fresh database (issue 20, point 6: why intake is slower on history).
The bench mix taken in by `process_events` in this process (no Kafka, no other service process), batches of 2,000,
ROUNDS rounds alternating between a fresh database and DATABASE_URL's (a preload kept by `bench/history_seed.py
EVENTS`, long settled: no write-back of the preload left); per side and round: events/s, this process's CPU per
event, and the database's block reads outside shared_buffers against hits (pg_stat_database).

    POSTGRES_DB_NAME=histbench bash scripts/postgres.sh run .venv/bin/python bench/history_intake.py [N] [ROUNDS]"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def blocks() -> tuple[int, int]:
    from django.db import connection

    time.sleep(1.1)  # a backend's statistics reach pg_stat_database at most once a second
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT blks_read, blks_hit FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()


def side(events: list[bytes]) -> tuple[float, float, float]:
    from notifications.intake.service import process_events

    read, hit = blocks()
    cpu, started = time.process_time(), time.perf_counter()
    for start in range(0, len(events), 2000):
        process_events(events[start:start + 2000], source="bench")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    read_after, hit_after = blocks()
    missed = (read_after - read) / max(read_after - read + hit_after - hit, 1)
    return len(events) / wall, cpu / len(events) * 1e6, missed


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40_000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    history_url = os.environ.get("DATABASE_URL", "")
    fresh_url = common.fresh_database()
    os.environ.update(DATABASE_URL=fresh_url, DJANGO_SETTINGS_MODULE="notification_service.settings",
                      LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from bench.history import _use
    from notifications.rendering.service import warm_up

    try:
        call_command("migrate", verbosity=0)
        warm_up()
        mix = common.event_mix(count * rounds * 2)
        for n, event in enumerate(mix):
            event["event_id"] = f"ab-{time.time_ns()}-{n}"
        encoded = [json.dumps(event).encode() for event in mix]
        for round_ in range(rounds):
            for side_n, (name, url) in enumerate((("fresh", fresh_url), ("history", history_url))):
                _use(url)
                first = (2 * round_ + side_n) * count
                rate, cpu, missed = side(encoded[first:first + count])
                print(f"round {round_ + 1} {name:<8} {rate:8,.0f} events/s, Python {cpu:5.1f} us an event, "
                      f"blocks read outside shared_buffers {missed:.1%}", flush=True)
    finally:
        connections.close_all()
        common.drop_database(fresh_url)


if __name__ == "__main__":
    main()
