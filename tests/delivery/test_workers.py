"""Worker processes: a worker killed mid-batch loses nothing (its lease expires, another takes over), and two
workers sharing a database never send one record twice."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from notifications.testing.fake_providers import FakeProviderServer, Reply

ROOT = Path(__file__).resolve().parents[2]

SETUP = """
from notifications.channels.models import ProviderConfig
from notifications.intake.service import process_events
from notifications.testing import make_event
row = ProviderConfig(tenant_id="acme", channel="sms", provider="webhook", options={{"url": "{url}/webhook"}})
row.credentials = {{"secret": "s"}}
from notifications.tenants.models import Tenant
Tenant.ensure(["acme"])
row.save()
events = [make_event("user.password.reset.requested", "acme", user_id=f"user-{{n}}", email=None)
          for n in range({count})]
results = process_events(events)
print(sum(1 for r in results for rec in r.records if rec.channel == "sms"))
"""

WORKER_ENV = {"NOTIFICATIONS_DELIVERY_LEASE_SECONDS": "3", "NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.2",
              "NOTIFICATIONS_DELIVERY_BATCH_SIZE": "20"}


def start_worker(shared_db, log: Path, concurrency: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_delivery_worker", "--concurrency", str(concurrency)],
        env={**shared_db.env, **WORKER_ENV}, cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )


def sent_count(shared_db) -> int:
    return shared_db.scalar("SELECT count(*) FROM notifications_notificationrecord WHERE status = 'sent'")


def keys(fake: FakeProviderServer) -> Counter:
    return Counter(request.headers["Idempotency-Key"] for request in fake.requests["webhook"])


@pytest.mark.slow
def test_worker_killed_mid_batch_loses_nothing(shared_db, tmp_path):
    fake = FakeProviderServer().start()
    try:
        fake.script("webhook", [Reply(200, body={"id": "x"}, delay=0.3)] * 1000)
        count = int(shared_db.run_python(SETUP.format(url=fake.url, count=60)).strip())
        assert count == 60

        first = start_worker(shared_db, tmp_path / "w1.log", concurrency=4)
        deadline = time.monotonic() + 60
        while len(fake.requests["webhook"]) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        assert sent_count(shared_db) < 60, "the worker finished before it was killed: the test proves nothing"

        second = start_worker(shared_db, tmp_path / "w2.log", concurrency=8)
        try:
            deadline = time.monotonic() + 90
            while sent_count(shared_db) < 60 and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=30) == 0
    finally:
        fake.stop()

    assert sent_count(shared_db) == 60
    delivered = keys(fake)
    assert len(delivered) == 60  # every record reached the provider
    assert sum(delivered.values()) - 60 <= 8  # re-sent: at most the killed worker's chunk in flight


def test_two_workers_never_send_one_record_twice(shared_db, tmp_path):
    fake = FakeProviderServer().start()
    try:
        count = int(shared_db.run_python(SETUP.format(url=fake.url, count=300)).strip())
        workers = [start_worker(shared_db, tmp_path / f"w{n}.log", concurrency=10) for n in range(2)]
        try:
            deadline = time.monotonic() + 120
            while sent_count(shared_db) < count and time.monotonic() < deadline:
                time.sleep(0.2)
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGTERM)
            for worker in workers:
                assert worker.wait(timeout=30) == 0
    finally:
        fake.stop()

    assert sent_count(shared_db) == count == 300
    delivered = keys(fake)
    assert len(delivered) == 300 and max(delivered.values()) == 1
    logs = [(tmp_path / f"w{n}.log").read_text() for n in range(2)]
    assert all("delivery batch: claimed=" in log for log in logs), "both workers took part"
