"""Pruning never blocks intake (issue 20, point 2): a fresh PostgreSQL database is given EXPIRED records (default
1,000,000, a third as many events, 120 days old, written by bench/history_seed.py), then intake takes
the bench mix in batches of 2,000 three times: alone, while `manage.py prune_history` deletes the expired history in
another process, and alone again. Prints each phase's events/s and its batches' median and slowest seconds, and
the pruning's rows/s.

    bash scripts/postgres.sh run .venv/bin/python bench/prune_during_intake.py [EXPIRED_RECORDS] [EVENTS]"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, history_seed

TENANT = "bench"


def seed_expired(records: int) -> None:
    """Events (UUIDv7 keys of their time, as intake makes them) and their final records, 120 days old."""
    from django.utils import timezone

    history_seed.preload(max(records // 3, 1), days=1, tenants=[TENANT], end=timezone.now() - timedelta(days=119),
                         users=5000, channels=("email", "sms", "push"), attempt_every=0, open_tail=0)


def intake(batches: list[list[bytes]]) -> tuple[float, list[float]]:
    from notifications.intake.service import process_events

    seconds = []
    for batch in batches:
        started = time.perf_counter()
        process_events(batch, source="bench")
        seconds.append(time.perf_counter() - started)
    return sum(len(batch) for batch in batches) / sum(seconds), seconds


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 60_000
    url = common.fresh_database()
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="notification_service.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from notifications.rendering.service import warm_up

    try:
        call_command("migrate", verbosity=0)
        seed_expired(records)
        events = [json.dumps(event).encode() for event in common.event_mix(count)]
        batches = [events[start:start + 2000] for start in range(0, count, 2000)]
        third = len(batches) // 3
        warm_up()
        phases = {"alone": batches[:third]}
        rate, seconds = intake(phases["alone"])
        report = [("alone", rate, seconds)]
        pruner = subprocess.Popen([sys.executable, str(common.ROOT / "manage.py"), "prune_history"],
                                  env={**os.environ}, stdout=subprocess.PIPE, text=True)
        prune_started = time.perf_counter()
        rate, seconds = intake(batches[third:2 * third])
        report.append(("while pruning", rate, seconds))
        if pruner.poll() is not None:
            print("note: pruning ended before intake's second phase did")
        out, _ = pruner.communicate()
        pruned_in = time.perf_counter() - prune_started
        rate, seconds = intake(batches[2 * third:])
        report.append(("alone again", rate, seconds))
        for name, rate, seconds in report:
            print(f"intake {name}: {rate:,.0f} events/s; batch of 2,000 median {statistics.median(seconds):.3f} s,"
                  f" slowest {max(seconds):.3f} s")
        print(f"prune_history: {out.strip()} in {pruned_in:.1f} s ({records / pruned_in:,.0f} records/s)")
    finally:
        connections.close_all()
        common.drop_database(url)


if __name__ == "__main__":
    main()
