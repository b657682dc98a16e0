"""CPU per event of intake in one process: `process_events` on N events of the bench mix (batches of 2,000)
in a fresh PostgreSQL database, with this process's CPU time and that of the PostgreSQL server processes
(read from /proc, so run it where PostgreSQL is local and otherwise idle). The process starts as the consumer
does (warm_up, settle_heap) before the clock starts.

    bash scripts/postgres.sh run .venv/bin/python bench/intake_cost.py [N]

Wrap it in `py-spy record -r 250 -f raw -o out.txt --` for a profile (bench/README.md)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def postgres_cpu_seconds() -> float:
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if not Path(f"/proc/{pid}/comm").read_text().startswith("postgres"):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(value) for value in fields[11:15])  # utime, stime and those of waited-for children
    return total / os.sysconf("SC_CLK_TCK")


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    url = common.fresh_database()
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="notification_service.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from notifications.intake.service import process_events
    from notifications.rendering.service import warm_up
    from notifications.utils.processes import settle_heap

    try:
        call_command("migrate", verbosity=0)
        events = [json.dumps(event).encode() for event in common.event_mix(count)]
        # As start_kafka_consumer does before its first batch: templates compiled, then what start-up made moved
        # out of the collector's view (gc.freeze), so full collections walk only what intake allocates.
        warm_up()
        settle_heap()
        postgres, python, started = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
        for start in range(0, count, 2000):
            process_events(events[start:start + 2000], source="bench")
        elapsed = time.perf_counter() - started
        python, postgres = time.process_time() - python, postgres_cpu_seconds() - postgres
        print(f"{count} events: {count / elapsed:,.0f} events/s in one process; per event: Python "
              f"{1e6 * python / count:.0f} us, PostgreSQL {1e6 * postgres / count:.0f} us, wall "
              f"{1e6 * elapsed / count:.0f} us")
    finally:
        connections.close_all()
        common.drop_database(url)


if __name__ == "__main__":
    main()
