"""A big broadcast never delays a 2FA code behind it (issue 18, point 4), on the real broker: a consumer process
and a delivery worker process (its fan-out runner thread beside its loop) share a PostgreSQL database holding a
tenant with 200,000 contacts. A broadcast (`to_all`) is published, then 2FA codes in the same partition, behind
it. The consumer records the broadcast as a fan-out job and goes on (it never writes 200,000 recipients' records
itself), and the worker claims a code's record (normal lane) before the broadcast's (bulk lane): the code is sent
within its normal latency, measured first with nothing else going on, while the fan-out is still writing and its
records are mostly waiting.

Codes are measured against the broadcast at three moments: right behind it (the consumer must not be blocked);
once the fan-out has committed thousands of records that wait in the bulk lane, older than the code's (the claim
order must put the code first: no race won by luck); and once the worker works through a backlog of them in full
claims."""

from __future__ import annotations

import json
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from notifications.events.registry import event_registry
from notifications.testing import make_event
from tests.crowds import seed_code
from tests.kafka.conftest import consumer_process, unique
from tests.kafka.helpers import create_topics
from tests.shared import ROOT, SharedDatabase

pytestmark = [pytest.mark.kafka, pytest.mark.postgres, pytest.mark.slow]

CONTACTS = 200_000
TENANT = "bcast"
CODE_USER = "u-2fa"
#: The 2FA user's contact, created after the crowd (so it is one of the broadcast's recipients too).
CODE_CONTACT = (f"from notifications.tenants.models import Contact; Contact.objects.create(tenant_id={TENANT!r}, "
                f"user_id={CODE_USER!r}, email='{CODE_USER}@example.com', first_name='Ada')")
BROADCAST = "invoice.payment.succeeded"
BROADCAST_CHANNELS = len(event_registry.handler_for(BROADCAST).channels)
BULK = 1  # enums.Lane.BULK
OPEN = ("pending", "running")
#: Pending bulk-lane records older than the second code's, at least, when it is published.
WAITING_AHEAD = 10_000
#: Recipients written when the backlog's code is published: by then the worker has claimed full batches for a while.
BACKLOG_WRITTEN = 60_000




def code_event(event_id: str) -> dict[str, Any]:
    return {**make_event("auth.2fa.code.requested", TENANT, user_id=CODE_USER, email=f"{CODE_USER}@example.com",
                         method="email"), "event_id": event_id}


def broadcast_event() -> dict[str, Any]:
    return {**make_event(BROADCAST, TENANT, user_id=None, email=None), "event_id": "broadcast", "to_all": True}


@dataclass(frozen=True)
class Sent:
    latency: float  # seconds from publishing to the record's sent_at
    sent_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class FanOutRow:
    id: int
    state: str
    written: int
    total: int | None
    finished_at: datetime | None
    event: Any  # the event row's key: the records' event_id


class Service:
    """The consumer and the worker, seen from the test: a producer, and one autocommit connection to the shared
    database (each read sees the last commit)."""

    def __init__(self, db: SharedDatabase, bootstrap: str, topic: str, worker_log: Path) -> None:
        import psycopg

        self.conn = psycopg.connect(f"dbname={db.name}", autocommit=True)
        self.topic = topic
        self.worker_log = worker_log
        self.producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 0, "enable.idempotence": True})
        self.baseline = self.bound = 0.0

    def publish(self, *events: dict[str, Any]) -> float:
        """Publish the events in order (keyed like publish_event) and wait for the broker; returns when the first
        was handed to the producer (epoch seconds)."""
        started = time.time()
        for event in events:
            key = f"{event['tenant_id']}:{event['payload'].get('user_id', '')}".encode()
            self.producer.produce(self.topic, value=json.dumps(event).encode(), key=key)
        assert self.producer.flush(30) == 0
        return started

    def one(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row is not None and len(row) == 1 else row

    def wait_sent(self, event_id: str, published: float, timeout: float = 30.0) -> Sent:
        """Wait for the code's record to be sent."""
        deadline = time.monotonic() + timeout
        row = None
        while time.monotonic() < deadline:
            row = self.one("SELECT r.status, r.sent_at, r.created_at, r.lane FROM notifications_notificationrecord r "
                           "JOIN notifications_event e ON e.id = r.event_id WHERE e.tenant_id = %s AND "
                           "e.dedupe_key = %s", TENANT, f"id:{event_id}")
            if row is not None and row[1] is not None:
                assert row[0] == "sent" and row[3] != BULK, row
                return Sent(row[1].timestamp() - published, row[1], row[2])
            time.sleep(0.01)
        raise AssertionError(f"the code {event_id} was not sent within {timeout} s: {row}\n"
                             + self.worker_log.read_text()[-3000:])

    def fanout(self) -> FanOutRow | None:
        row = self.one("SELECT id, state, written, total, finished_at, event_id FROM notifications_fanout "
                       "WHERE tenant_id = %s", TENANT)
        return FanOutRow(*row) if row is not None else None

    def wait_fanout(self, until: Any, timeout: float) -> FanOutRow | None:
        deadline = time.monotonic() + timeout
        job = self.fanout()
        while not (job is not None and until(job)) and time.monotonic() < deadline:
            time.sleep(0.02)
            job = self.fanout()
        return job

    def waiting(self, job: FanOutRow) -> int:
        """The fan-out's records waiting in the bulk lane."""
        return self.one("SELECT count(*) FROM notifications_notificationrecord WHERE event_id = %s AND lane = %s "
                        "AND status = 'pending'", job.event, BULK)

    def sent_before(self, job: FanOutRow, moment: datetime) -> int:
        return self.one("SELECT count(*) FROM notifications_notificationrecord WHERE event_id = %s AND "
                        "sent_at <= %s", job.event, moment)

    def overtaken(self, job: FanOutRow, code: Sent) -> int:
        """The fan-out's records older than the code's and sent after it (or not yet)."""
        return self.one("SELECT count(*) FROM notifications_notificationrecord WHERE event_id = %s AND lane = %s "
                        "AND created_at < %s AND (sent_at IS NULL OR sent_at > %s)",
                        job.event, BULK, code.created_at, code.sent_at)

    def assert_ahead_of_the_fanout(self, job: FanOutRow, code: Sent, report: str) -> None:
        """Sent within the bound, while the fan-out was still writing and most of its records were not yet sent."""
        assert code.latency <= self.bound, report
        finished_at = self.one("SELECT finished_at FROM notifications_fanout WHERE id = %s", job.id)
        assert finished_at is None or finished_at > code.sent_at, report
        assert self.sent_before(job, code.sent_at) < CONTACTS * BROADCAST_CHANNELS / 2, report


def start_worker(db: SharedDatabase, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "run_delivery_worker"], env=db.env, cwd=ROOT,
                            stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def wait_for_log(path: Path, text: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, path.read_text()[-3000:]
        if path.exists() and text in path.read_text():
            return
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in {path.name} after {timeout} s:\n{path.read_text()[-3000:]}")


@pytest.fixture
def service(kafka_bootstrap: str, shared_db: SharedDatabase, tmp_path: Path) -> Iterator[Service]:
    """200,000 contacts, a consumer and a worker running, and the code's normal latency measured (a warm-up, then
    the median of three codes, each alone)."""
    shared_db.run_python("\n".join([seed_code(TENANT, CONTACTS, settings={"allow_broadcast": True}),
                                    CODE_CONTACT]))
    topic, group, dead = unique("priority"), unique("g"), unique("dlq")
    create_topics(kafka_bootstrap, [topic])  # one partition: the codes are queued behind the broadcast
    consumer_log, worker_log = tmp_path / "consumer.log", tmp_path / "worker.log"
    consumer = consumer_process(shared_db, kafka_bootstrap, topic, group, dead, 500, consumer_log)
    worker = start_worker(shared_db, worker_log)
    running = Service(shared_db, kafka_bootstrap, topic, worker_log)
    try:
        wait_for_log(worker_log, "delivery worker started", worker)
        wait_for_log(consumer_log, "partitions assigned", consumer)
        running.wait_sent("code-warm", running.publish(code_event("code-warm")))
        running.baseline = statistics.median(
            running.wait_sent(f"code-base-{n}", running.publish(code_event(f"code-base-{n}"))).latency
            for n in range(3))
        running.bound = max(3 * running.baseline, running.baseline + 2.0)
        yield running
    finally:
        running.conn.close()
        for process in (consumer, worker):
            process.send_signal(signal.SIGTERM)
        for process in (consumer, worker):
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_a_2fa_code_behind_a_200k_broadcast_is_sent_within_its_normal_latency(service):
    # Right behind the broadcast, in the same partition: the consumer records the fan-out job and goes on.
    published = service.publish(broadcast_event(), code_event("code-behind"))
    behind = service.wait_sent("code-behind", published)
    job = service.wait_fanout(lambda job: True, timeout=5)
    assert job is not None, "the broadcast's fan-out was not recorded within 5 s of its publishing"
    assert job.total in (None, CONTACTS + 1)

    # Once thousands of the broadcast's records wait in the bulk lane: the code's record goes ahead of them.
    deadline = time.monotonic() + 30
    while (ahead := service.waiting(job)) < WAITING_AHEAD and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ahead >= WAITING_AHEAD, "the fan-out's records never piled up: nothing would be proven"
    queued = service.wait_sent("code-queued", service.publish(code_event("code-queued")))
    overtaken = service.overtaken(job, queued)

    report = (f"baseline {service.baseline:.2f} s (bound {service.bound:.2f} s); right behind the broadcast "
              f"{behind.latency:.2f} s; behind {ahead:,} waiting bulk records {queued.latency:.2f} s, overtook "
              f"{overtaken:,}; broadcast records sent before each: {service.sent_before(job, behind.sent_at):,}, "
              f"{service.sent_before(job, queued.sent_at):,}; fan-out now {service.fanout()}")
    print("\n" + report)
    service.assert_ahead_of_the_fanout(job, behind, report)
    service.assert_ahead_of_the_fanout(job, queued, report)
    assert overtaken >= WAITING_AHEAD // 2, report


def test_a_2fa_code_during_a_bulk_backlog_is_sent_within_its_normal_latency(service):
    service.publish(broadcast_event())
    job = service.wait_fanout(lambda job: job.written >= BACKLOG_WRITTEN or job.state not in OPEN, timeout=60)
    assert job is not None and job.state == "running", f"the fan-out ended before the backlog's code: {job}"
    waiting = service.waiting(job)
    code = service.wait_sent("code-backlog", service.publish(code_event("code-backlog")))
    overtaken = service.overtaken(job, code)

    report = (f"baseline {service.baseline:.2f} s (bound {service.bound:.2f} s); published at {job.written:,} "
              f"recipients written and {waiting:,} bulk records waiting: {code.latency:.2f} s, overtook "
              f"{overtaken:,}; fan-out now {service.fanout()}")
    print("\n" + report)
    assert waiting >= WAITING_AHEAD and overtaken >= WAITING_AHEAD // 2, report
    # Within its bound thanks to the claim's lanes: bulk records are claimed in small claims, and a claim sends
    # its normal-lane records first (delivery.claims, delivery.batch).
    assert code.latency <= service.bound, report
    service.assert_ahead_of_the_fanout(job, code, report)
