"""The history export at a million rows (issue 20, point 3): EVENTS events (default 200,000), three records each and
one attempt for every third record, written straight into PostgreSQL (bench/history_seed.py, not through the
service), then `export_rows` as JSON Lines into /dev/null. Prints rows/s and the process's resident
memory at each tenth of the export: it must stay flat (one chunk is held at a time).

    bash scripts/postgres.sh run .venv/bin/python bench/history_export.py [EVENTS]"""

from __future__ import annotations

import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, history_seed
from bench.fanout import rss_mib

TENANT = "bench-history"


def seed(events: int) -> None:
    history_seed.preload(events, days=1, tenants=[TENANT], users=5000, channels=("email", "sms", "push"),
                         attempt_every=3, sealed=True, open_tail=0)


def run(events: int) -> int:
    from notifications.history.export import ExportQuery, export_rows
    from notifications.history.formats import stream

    seed(events)
    query = ExportQuery(TENANT, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
    memory: list[tuple[int, float]] = []
    tenth = max(events // 10, 1)

    def progress(done: int) -> None:
        if not memory or done // tenth > memory[-1][0] // tenth:
            memory.append((done, rss_mib()))

    rows = 0
    size = 0
    started = time.perf_counter()
    cpu = time.process_time()
    with open("/dev/null", "wb") as sink:
        counted = export_rows(query, progress=progress)

        def count() -> object:
            nonlocal rows
            for row in counted:
                rows += 1
                yield row

        for piece in stream(count(), "jsonl"):
            size += len(piece)
            sink.write(piece)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    growth = memory[-1][1] - memory[1][1] if len(memory) > 1 else 0.0
    print(f"exported {rows:,} rows ({size / 2**20:,.0f} MiB of JSON Lines) in {wall:.1f} s: {rows / wall:,.0f} rows/s,"
          f" Python {cpu / rows * 1e6:.1f} us a row")
    print("resident memory (MiB) at each tenth of the events: "
          + ", ".join(f"{done:,}: {mib:.0f}" for done, mib in memory) + f"; growth after the first tenth {growth:+.1f}")
    return int(growth > 20)


def main() -> None:
    events = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    common.standalone(lambda: run(events))


if __name__ == "__main__":
    main()
