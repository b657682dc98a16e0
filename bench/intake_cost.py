"""CPU per event of intake in one process: `process_events` on N events of the bench mix (batches of 2,000)
in a fresh PostgreSQL database, with this process's CPU time and that of the PostgreSQL server processes
(read from /proc, so run it where PostgreSQL is local and otherwise idle). The process starts as the consumer
does (warm_up, settle_heap) before the clock starts.

    bash scripts/postgres.sh run .venv/bin/python bench/intake_cost.py [N] [--rules]

--rules: the same mix a second time for a tenant with 20 rules (bench/rules_mix.py), batches of the two
alternating in one run, and the per-event cost of each printed (issue 19: at most 15% more with rules).

Wrap it in `py-spy record -r 250 -f raw -o out.txt --` for a profile (bench/README.md)."""

from __future__ import annotations

import argparse
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("count", nargs="?", type=int, default=20_000, help="events (of each tenant with --rules)")
    parser.add_argument("--rules", action="store_true", help="also a tenant with 20 rules, in the same run")
    args = parser.parse_args()
    count = args.count
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
        runs = {"without rules": [json.dumps(event).encode() for event in common.event_mix(count)]}
        if args.rules:
            from bench.rules_mix import RULES
            from notifications.rules.store import save_rules

            save_rules("bench-rules", RULES)
            mix = common.event_mix(count, tenant="bench-rules")
            runs["with 20 rules"] = [json.dumps({**event, "event_id": f"r-{event['event_id']}"}).encode()
                                     for event in mix]
        # As start_kafka_consumer does before its first batch: templates compiled, then what start-up made moved
        # out of the collector's view (gc.freeze), so full collections walk only what intake allocates.
        warm_up()
        settle_heap()
        spent = {name: [0.0, 0.0, 0.0] for name in runs}  # Python CPU, PostgreSQL CPU, wall
        for start in range(0, count, 2000):  # the runs' batches alternate: drift in the machine hits both alike
            for name, events in runs.items():
                postgres, python, started = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
                process_events(events[start:start + 2000], source="bench")
                totals = spent[name]
                totals[0] += time.process_time() - python
                totals[1] += postgres_cpu_seconds() - postgres
                totals[2] += time.perf_counter() - started
        for name, (python, postgres, elapsed) in spent.items():
            print(f"{count} events {name}: {count / elapsed:,.0f} events/s in one process; per event: Python "
                  f"{1e6 * python / count:.0f} us, PostgreSQL {1e6 * postgres / count:.0f} us, wall "
                  f"{1e6 * elapsed / count:.0f} us")
        if args.rules:
            base, ruled = spent["without rules"][0], spent["with 20 rules"][0]
            print(f"rules cost {100 * (ruled - base) / base:+.1f}% Python per event "
                  f"({1e6 * (ruled - base) / count:+.1f} us)")
    finally:
        connections.close_all()
        common.drop_database(url)


if __name__ == "__main__":
    main()
