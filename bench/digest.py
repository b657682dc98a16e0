"""The digest workload: 50,000 content.liked events over 5,000 users, taken in by two consumer threads while two
worker threads close windows and send digests, each thread on its own connection, in a fresh PostgreSQL
database. The tenant digests content.liked on every channel in windows of WINDOW_SECONDS (default 2), so
windows close while events are still coming. Checks exactly one digest per window and key, every event in
exactly one digest, and prints the times.

    bash scripts/postgres.sh run .venv/bin/python bench/digest.py [EVENTS] [USERS] [WINDOW_SECONDS]

`make bench` runs it too (bench/run.py, `--only digest`), on the tenant `bench-digest`."""

from __future__ import annotations

import random
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

BATCH = 1000


def events_for(count: int, users: int, seed: int, tenant: str = "bench") -> list[dict[str, Any]]:
    from notifications.testing.factories import make_event

    rng = random.Random(seed)
    return [{**make_event("content.liked", tenant, user_id=f"user-{rng.randrange(users)}",
                          liked_by=f"liker-{n}", content_id=f"post-{rng.randrange(3)}", like_count=None),
             "event_id": str(uuid.uuid4())} for n in range(count)]


def run(count: int, users: int, window: int, tenant: str = "bench", record: Any = None) -> int:
    from django.db import connection

    from notifications.delivery.engine import DeliveryEngine, deliver_until_idle
    from notifications.intake.service import process_events
    from notifications.tenants.models import Tenant

    Tenant.objects.create(id=tenant, name="Bench", settings={
        "digests": {"content.liked": {"*": {"window_seconds": window}}}})
    halves = [events_for(count // 2, users, 1, tenant), events_for(count - count // 2, users, 2, tenant)]
    done = threading.Event()
    claimed = Counter[str]()
    errors: list[BaseException] = []

    def guarded(work: Any) -> Any:
        def run_it() -> None:
            try:
                work()
            except BaseException as err:  # noqa: BLE001 - reported below
                errors.append(err)
            finally:
                connection.close()

        return threading.Thread(target=run_it)

    def consumer(events: list[dict[str, Any]]) -> None:
        for start in range(0, len(events), BATCH):
            process_events(events[start:start + BATCH], source="bench")

    def worker(name: str) -> None:
        engine = DeliveryEngine()
        while not done.is_set():
            report = engine.deliver_due()
            claimed[name] += report.claimed
            if not report.claimed:
                time.sleep(0.05)  # nothing due: poll again soon (the bench's worker loop)

    consumers = [guarded(lambda events=events: consumer(events)) for events in halves]
    workers = [guarded(lambda name=name: worker(name)) for name in ("w1", "w2")]
    started = time.perf_counter()
    for thread in consumers + workers:
        thread.start()
    for thread in consumers:
        thread.join()
    intake = time.perf_counter() - started
    time.sleep(window + 0.5)  # the last windows close
    done.set()
    for thread in workers:
        thread.join()
    deliver_until_idle(engine=DeliveryEngine())
    total = time.perf_counter() - started
    if errors:
        raise SystemExit(f"a thread failed: {errors[0]!r}")
    problems = check(count, tenant)
    if record is not None:
        record("digest: content.liked taken in, windows closing", count / intake, "events/s", None,
               f"{count:,} events over {users:,} users, windows of {window} s, two consumer and two worker "
               f"threads; all digests sent after {total:.1f} s; "
               + ("exactly one digest per window and key" if not problems else f"{problems} PROBLEMS"))
        record("digest: problems (windows without exactly one digest, events missing)", problems, "", None)
    print(f"{count:,} events over {users:,} users, windows of {window} s: intake {count / intake:,.0f} events/s "
          f"({intake:.1f} s, two consumers), all digests sent after {total:.1f} s (two workers claimed "
          f"{sum(claimed.values()):,} digest records while intake ran)")
    return problems


def check(count: int, tenant: str = "bench") -> int:
    """Exactly one digest per window and key; every event in one digest; nothing left waiting."""
    from django.db.models import Count

    from notifications.channels.models import InAppMessage
    from notifications.delivery.models import NotificationRecord
    from notifications.digests.models import DigestWindow

    windows = DigestWindow.objects.filter(tenant_id=tenant)
    states = Counter(windows.values_list("state", flat=True))
    digested = list(windows.values_list("pk", "digest_record_id", "count", "events", "channel"))
    sent = dict(NotificationRecord.objects.filter(tenant_id=tenant, status="sent", digest_window__isnull=False)
                .values_list("digest_window").annotate(n=Count("pk")).values_list("digest_window", "n"))
    waiting = NotificationRecord.objects.filter(tenant_id=tenant, status="scheduled").count()
    in_app = [row for row in digested if row[4] == "in_app"]
    messages = InAppMessage.objects.filter(tenant_id=tenant).count()
    per_window_wrong = sum(1 for pk, _, _, _, _ in in_app if sent.get(pk) != 1)
    counts_wrong = sum(1 for _, _, counted, joined, _ in in_app if counted != joined)
    events = sum(row[2] for row in in_app)
    open_per_key = (DigestWindow.objects.filter(tenant_id=tenant, state="open").values("channel", "key")
                    .annotate(n=Count("pk")).filter(n__gt=1).count())
    print(f"windows: {len(in_app):,} in-app ({dict(states)} over all channels); in-app messages {messages:,}; "
          f"events in in-app digests {events:,} of {count:,}; records still waiting {waiting}")
    problems = per_window_wrong + counts_wrong + (events != count) + (messages != len(in_app)) + (waiting != 0)
    problems += open_per_key
    print("exactly one digest per window and key: " + ("yes" if not problems else
          f"NO: {per_window_wrong} windows without exactly one digest, {counts_wrong} counts that differ"))
    return problems


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    users = int(sys.argv[2]) if len(sys.argv) > 2 else 5_000
    window = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    common.standalone(lambda: run(count, users, window))

if __name__ == "__main__":
    main()
