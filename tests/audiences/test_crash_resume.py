"""A fan-out survives its process being killed (issue 18, point 4): `manage.py fanout run` is SIGKILLed mid-way,
twice, and run again; every subscriber ends with exactly one record per channel of the event type. Each chunk's
records commit with the job's cursor and counts, so a kill loses at most the chunk in flight, which the next run
writes again from the committed cursor.

PostgreSQL only: the runner's processes share the database with the test (a SQLite file would do, but the chunk's
row lock, FOR UPDATE SKIP LOCKED, and the COPY of its records are PostgreSQL's)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from notifications.events.registry import event_registry
from tests.crowds import seed_code
from tests.shared import ROOT, SharedDatabase

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SUBSCRIBERS = 20_000
CHUNK = 500
EVENT_TYPE = "task.assigned"
#: Where each run is killed: at least this many recipients written (and not all of them).
KILL_AT = (5_000, 11_000)

INTAKE = f"""
from notifications.intake.service import process_events
from notifications.testing import make_event
event = {{**make_event({EVENT_TYPE!r}, "acme", user_id=None, email=None), "to_topic": "everyone"}}
print(process_events([event])[0].fanout_id)
"""


class Job:
    """The fan-out's row, read on one connection of the test's own (autocommit: each read sees the last commit)."""

    def __init__(self, db: SharedDatabase, job_id: int) -> None:
        import psycopg

        self.job_id = job_id
        self.conn = psycopg.connect(f"dbname={db.name}", autocommit=True)

    def row(self) -> dict[str, Any]:
        cursor = self.conn.execute("SELECT state, cursor, written, records, total, event_id FROM notifications_fanout "
                                   "WHERE id = %s", [self.job_id])
        values = cursor.fetchone()
        assert values is not None
        return dict(zip(("state", "cursor", "written", "records", "total", "event_id"), values, strict=True))

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        assert row is not None
        return row[0]

    def close(self) -> None:
        self.conn.close()


def run_fanout(db: SharedDatabase, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "fanout", "run", "--chunk", str(CHUNK)],
                            env=db.env, cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def kill_when_written(process: subprocess.Popen, job: Job, at_least: int, timeout: float = 60.0) -> int:
    """SIGKILL the runner as soon as the job's committed `written` reaches `at_least`; returns what it was."""
    deadline = time.monotonic() + timeout
    written = 0
    while time.monotonic() < deadline and process.poll() is None:
        written = job.row()["written"]
        if written >= at_least:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    return written


def test_a_fanout_killed_twice_mid_way_gives_every_subscriber_one_record_per_channel(shared_db, tmp_path):
    started = time.monotonic()
    output = shared_db.run_python(seed_code("acme", SUBSCRIBERS, topic="everyone") + "\n" + INTAKE)
    job = Job(shared_db, int(output.split()[-1]))
    channels = sorted(str(channel) for channel in event_registry.handler_for(EVENT_TYPE).channels)
    log = tmp_path / "fanout.log"
    try:
        assert job.row()["state"] == "pending"
        seeded = time.monotonic()

        kills = []
        for at_least in KILL_AT:
            process = run_fanout(shared_db, log)
            seen = kill_when_written(process, job, at_least)
            assert process.returncode == -signal.SIGKILL, (
                f"the runner ended before it was killed ({process.returncode}): the test proves nothing\n"
                + log.read_text()[-3000:])
            row = job.row()
            kills.append(row["written"])
            # Killed mid-way: the job is still open, with the cursor of its last committed chunk.
            assert seen >= at_least and row["written"] < SUBSCRIBERS, row
            assert row["state"] == "running" and row["cursor"], row
            # What is committed is whole chunks: the records and the counts of the same chunks, nothing past
            # the cursor.
            committed = job.scalar("SELECT count(*) FROM notifications_notificationrecord WHERE event_id = %s",
                                   row["event_id"])
            assert committed == row["records"] == row["written"] * len(channels), row
            assert row["written"] % CHUNK == 0, row
            assert job.scalar("SELECT max(user_id) FROM notifications_notificationrecord WHERE event_id = %s",
                              row["event_id"]) == row["cursor"]
        assert kills[0] < kills[1] < SUBSCRIBERS

        finish = subprocess.run([sys.executable, str(ROOT / "manage.py"), "fanout", "run", "--chunk", str(CHUNK)],
                                env=shared_db.env, cwd=ROOT, capture_output=True, text=True, timeout=120,
                                check=False)
        assert finish.returncode == 0, finish.stderr[-3000:]
        row = job.row()
        assert (row["state"], row["written"], row["total"]) == ("done", SUBSCRIBERS, SUBSCRIBERS), row

        event = row["event_id"]
        doubled = job.scalar(
            "SELECT count(*) FROM (SELECT user_id, channel FROM notifications_notificationrecord WHERE event_id = %s "
            "GROUP BY user_id, channel HAVING count(*) <> 1) AS doubled", event)
        assert doubled == 0
        assert job.scalar("SELECT count(DISTINCT user_id) FROM notifications_notificationrecord WHERE event_id = %s",
                          event) == SUBSCRIBERS
        per_channel = dict(job.conn.execute(
            "SELECT channel, count(DISTINCT user_id) FROM notifications_notificationrecord WHERE event_id = %s "
            "GROUP BY channel", [event]).fetchall())
        assert per_channel == dict.fromkeys(channels, SUBSCRIBERS)
        assert row["records"] == SUBSCRIBERS * len(channels)
        # Every subscriber has a contact: nobody is missing from the records (an unknown one would be skipped).
        assert job.scalar("SELECT count(*) FROM notifications_subscription s WHERE NOT EXISTS (SELECT 1 FROM "
                          "notifications_notificationrecord r WHERE r.event_id = %s AND r.user_id = s.user_id)",
                          event) == 0
    finally:
        job.close()
    print(f"\nseeded in {seeded - started:.1f} s; killed at {kills[0]:,} and {kills[1]:,} written; "
          f"whole test {time.monotonic() - started:.1f} s")
