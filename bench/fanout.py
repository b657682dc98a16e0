"""The fan-out workload: one event to a topic of SUBSCRIBERS (default 1,000,000) on PostgreSQL. The contacts and
the subscriptions are loaded with COPY (not through the service); the event is taken in by intake (one fan-out
job), and the runner writes every subscriber's records in chunks in this process. Prints the recipients written
per second, the process's resident memory at each tenth (it must stay flat: nothing holds a million of
anything), and checks that every subscriber has exactly one record per channel.

    bash scripts/postgres.sh run .venv/bin/python bench/fanout.py [SUBSCRIBERS] [EVENT_TYPE] [CHUNK]

`make bench` runs it too (bench/run.py, `--only fanout`), on the tenant `bench-fanout`."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

TENANT = "bench-fanout"
TOPIC = "everyone"
#: One channel's worth of the announcement the bench sends: e-mail (a pending record each) and in-app (rendered
#: and delivered into the inbox at once).
EVENT_TYPE = "invoice.payment.succeeded"


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def seed(subscribers: int, tenant: str = TENANT) -> int:
    """The tenant, its contacts and one topic they all subscribe to, by COPY; returns the topic's id."""
    from django.db import connection

    from notifications.audiences.models import Subscription, Topic
    from notifications.tenants.models import Contact, Tenant

    Tenant.objects.create(id=tenant, name="Bench fan-out")
    topic = Topic.objects.create(tenant_id=tenant, key=TOPIC)
    contacts, subscriptions = Contact._meta.db_table, Subscription._meta.db_table
    started = time.perf_counter()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY {contacts} (tenant_id, user_id, email, phone, first_name, last_name, locale, "
                      "timezone, quiet_hours, created_at, updated_at) FROM STDIN") as copy:
            for start in range(0, subscribers, 50_000):
                buffer = io.StringIO()
                for n in range(start, min(start + 50_000, subscribers)):
                    buffer.write(f"{tenant}\tuser-{n:07d}\tuser-{n:07d}@example.com\t\tName{n}\t\t\t\t{{}}\t"
                                 "2026-01-01 00:00:00+00\t2026-01-01 00:00:00+00\n")
                copy.write(buffer.getvalue())
        with raw.copy(f"COPY {subscriptions} (topic_id, user_id, channels, created_at) FROM STDIN") as copy:
            for start in range(0, subscribers, 50_000):
                copy.write("".join(f"{topic.pk}\tuser-{n:07d}\t[]\t2026-01-01 00:00:00+00\n"
                                   for n in range(start, min(start + 50_000, subscribers))))
        cursor.execute(f"ANALYZE {contacts}; ANALYZE {subscriptions}")
    print(f"seeded {subscribers:,} contacts and subscriptions by COPY in {time.perf_counter() - started:.1f} s")
    return topic.pk


def run(subscribers: int, event_type: str = EVENT_TYPE, chunk: int | None = None, tenant: str = TENANT,
        record: Any = None) -> dict[str, Any]:
    from django.db import connection

    from notifications.audiences.models import FanOut
    from notifications.audiences.runner import chunk_size, run_until_idle
    from notifications.intake.service import process_events
    from notifications.testing.factories import make_event

    seed(subscribers, tenant)
    size = chunk or chunk_size()
    event = {**make_event(event_type, tenant, user_id=None, email=None), "to_topic": TOPIC}
    memory: list[tuple[int, float]] = [(0, rss_mib())]
    times: list[float] = []
    marks = iter(range(subscribers // 10, subscribers + 1, max(subscribers // 10, 1)))
    mark = next(marks, None)

    def progress(step: Any) -> None:
        nonlocal mark
        while mark is not None and step.written >= mark:
            memory.append((step.written, rss_mib()))
            times.append(time.perf_counter())
            mark = next(marks, None)

    from bench.intake_cost import postgres_cpu_seconds

    postgres, python, started = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
    result = process_events([event], source="bench")[0]
    chunks = run_until_idle(size, progress=progress)
    elapsed = time.perf_counter() - started
    python, postgres = time.process_time() - python, postgres_cpu_seconds() - postgres
    job = FanOut.objects.get(pk=result.fanout_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT (user_id, channel)) FROM notifications_notificationrecord "
                       "WHERE event_id = %s", [job.event_id])
        records, distinct = cursor.fetchone()
    from notifications.audiences.progress import fanout_status

    reading = time.perf_counter()
    fanout_status(job)  # the API's, the dashboard's and `manage.py fanout status`'s read: counts its records
    status_ms = (time.perf_counter() - reading) * 1000
    rate = job.written / elapsed
    tenth = subscribers / 10
    first, last = (tenth / (times[0] - started), tenth / (times[-1] - times[-2])) if len(times) > 2 else (0, 0)
    growth = max(m for _, m in memory[1:]) - memory[1][1] if len(memory) > 1 else 0.0
    problems = (job.state != "done") + (job.written != subscribers) + (records != distinct) + (
        records != job.records)
    print(f"fan-out of {event_type} to {subscribers:,} subscribers: {rate:,.0f} recipients/s ({elapsed:.1f} s, "
          f"{chunks} chunks of {size:,}), {records:,} records, skipped {job.skipped}; state {job.state}; CPU per "
          f"recipient: Python {python / subscribers * 1e6:.1f} us, PostgreSQL {postgres / subscribers * 1e6:.1f} us")
    print(f"rate of the first tenth {first:,.0f}/s, of the last tenth {last:,.0f}/s (records table growing by "
          f"{records:,} rows meanwhile)")
    print("resident memory (MiB) at each tenth: " + ", ".join(f"{w:,}: {m:.0f}" for w, m in memory)
          + f"; growth after the first tenth {growth:+.1f} MiB")
    print(f"progress read (fanout_status: its records counted by status): {status_ms:,.0f} ms")
    print("every subscriber exactly one record per channel: " + ("yes" if not problems else f"NO ({problems})"))
    if record is not None:
        record("fan-out: topic of subscribers -> records committed", rate, "recipients/s", None,
               f"{subscribers:,} subscribers, {event_type}, chunks of {size:,}; {records:,} records; "
               + ("exactly one record per subscriber and channel" if not problems else f"{problems} PROBLEMS"))
        record("fan-out: last tenth's rate / first tenth's", last / first if first else 0, "x", None,
               f"{first:,.0f} -> {last:,.0f} recipients/s while the records table grew by {records:,} rows")
        record("fan-out: resident memory growth after the first tenth", growth, "MiB", None,
               f"RSS {memory[1][1]:.0f} MiB at a tenth, {memory[-1][1]:.0f} MiB at the end")
        record("fan-out: problems (subscribers without exactly one record per channel)", problems, "", None)
        record("fan-out: progress read of the finished job", status_ms, "ms", None,
               f"fanout_status: {records:,} records counted by status in one GROUP BY")
    problems += crash_and_resume(subscribers, event_type, size, tenant, record)
    return {"rate": rate, "growth": growth, "problems": problems}


def crash_and_resume(subscribers: int, event_type: str, size: int, tenant: str, record: Any) -> int:
    """A second event to the topic, run by `manage.py fanout run` in a process killed (SIGKILL) half-way, then
    resumed here: every subscriber must still get exactly one record per channel. Returns the problems."""
    from django.db import connection

    from notifications.audiences.models import FanOut
    from notifications.audiences.runner import run_until_idle
    from notifications.intake.service import process_events
    from notifications.testing.factories import make_event

    event = {**make_event(event_type, tenant, user_id=None, email=None), "to_topic": TOPIC, "event_id": "crash"}
    job = FanOut.objects.get(pk=process_events([event], source="bench")[0].fanout_id)
    runner = subprocess.Popen([sys.executable, str(common.ROOT / "manage.py"), "fanout", "run", "--chunk", str(size)],
                              env={**os.environ, "LOG_LEVEL": "WARNING"}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    while runner.poll() is None:
        job.refresh_from_db()
        if job.written >= subscribers // 2:
            runner.kill()
            break
        time.sleep(0.05)
    runner.wait()
    job.refresh_from_db()
    killed_at, killed = job.written, runner.returncode == -signal.SIGKILL
    run_until_idle(size)
    job.refresh_from_db()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), count(DISTINCT (user_id, channel)), count(DISTINCT user_id) FROM "
                       "notifications_notificationrecord WHERE event_id = %s", [job.event_id])
        records, distinct, users = cursor.fetchone()
    problems = (not killed) + (job.state != "done") + (records != distinct) + (users != subscribers)
    print(f"killed (SIGKILL) at {killed_at:,} of {subscribers:,} recipients written, resumed: {users:,} users, "
          f"{records:,} records, {distinct:,} distinct (user, channel): "
          + ("exactly one record per subscriber and channel" if not problems else f"{problems} PROBLEMS"))
    if record is not None:
        record("fan-out: killed half-way and resumed, problems", problems, "", None,
               f"SIGKILL at {killed_at:,} of {subscribers:,} written; {users:,} users, {records:,} records")
    return problems


def main() -> None:
    subscribers = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    event_type = sys.argv[2] if len(sys.argv) > 2 else EVENT_TYPE
    chunk = int(sys.argv[3]) if len(sys.argv) > 3 else None
    common.standalone(lambda: run(subscribers, event_type, chunk)["problems"])

if __name__ == "__main__":
    main()
