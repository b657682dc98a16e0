"""The delivery worker command: --once, worker processes sharing a database (a worker killed mid-batch loses
nothing: its lease expires and another takes over; two workers never send one record twice), --processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command

from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import make_event
from notifications.testing.fake_providers import FakeProviderServer, Reply
from tests.shared import ROOT

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
        env={**shared_db.env, **WORKER_ENV}, cwd=ROOT, stdout=open(log, "ab"), stderr=subprocess.STDOUT,
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


@pytest.mark.django_db
def test_run_delivery_worker_once_delivers_everything_due(tenant, capsys):
    for n in range(3):
        event_registry.process_event(make_event("user.login.failed", user_id=f"user-{n}"))

    call_command("run_delivery_worker", "--once")

    assert "sent=6" in capsys.readouterr().out  # e-mail and SMS; these users have no push device
    assert NotificationRecord.objects.filter(channel="push", reason="no_address").count() == 3
    assert set(NotificationRecord.objects.exclude(channel="push").values_list("status", flat=True)) == {Status.SENT}


def test_worker_processes_stop_together_on_sigterm(tmp_path):
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "NOTIFICATIONS_VAR_DIR": str(tmp_path)}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    parent = subprocess.Popen([*manage, "run_delivery_worker", "--processes", "2", "--poll", "0.2"], env=env,
                              cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        children: list[str] = []
        while time.monotonic() < deadline and len(children) < 2:
            found = subprocess.run(["pgrep", "-P", str(parent.pid)], capture_output=True, text=True).stdout
            children = found.split()
            time.sleep(0.2)
        assert len(children) == 2, "two worker processes under the supervisor"
        time.sleep(2)  # both are up and polling
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=20) == 0
        for pid in children:
            assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    finally:
        if parent.poll() is None:
            parent.kill()


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _gone(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_the_fan_out_runner_process_ends_with_its_worker(shared_db, tmp_path, how):
    """run_delivery_worker starts `fanout runner` beside itself (notifications/audiences): stopped with it, and
    not left running as an orphan when the worker is killed."""
    worker = start_worker(shared_db, tmp_path / "worker.log", 10)
    deadline = time.monotonic() + 30
    while not (runners := _children(worker.pid)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert runners, "no fan-out runner process was started"
    worker.send_signal(how)
    worker.wait(timeout=30)
    assert all(_gone(pid, 10) for pid in runners), (tmp_path / "worker.log").read_text()[-2000:]


# NOTIFICATIONS["HANDLERS"]: a worker process knows the host project's handlers only through the setting.

MOCK_HANDLER = "tests.handlers_for_tests:MockEventHandler"
TAKE_IN_TEST_EVENT = """
from notifications.events.registry import event_registry
from notifications.tenants.models import Tenant
Tenant.ensure(["acme"])
{register}
result = event_registry.process_event({{"event_type": "test.event", "tenant_id": "acme",
    "timestamp": "2026-11-23T10:00:00", "payload": {{"user_id": "u-9", "email": "mock@example.com"}}}})
print(result.outcome, *[(r.channel, r.status) for r in result.records])
"""
TEST_EVENT_RECORD = "SELECT {column} FROM notifications_notificationrecord WHERE event_type = 'test.event'"


def run_worker_once(shared_db, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "manage.py"), "run_delivery_worker", "--once"],
                          env={**shared_db.env, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_a_worker_delivers_the_events_of_a_configured_handler(shared_db, tmp_path):
    configured = {"NOTIFICATIONS_HANDLERS": MOCK_HANDLER}
    taken = shared_db.run_python(TAKE_IN_TEST_EVENT.format(register=""), extra_env=configured)
    assert taken.split() == ["processed", "('email',", "'pending')"]

    done = run_worker_once(shared_db, **configured)

    assert done.returncode == 0, done.stderr
    assert shared_db.scalar(TEST_EVENT_RECORD.format(column="status")) == "sent"
    [mail_file] = (tmp_path / "var" / "mail").iterdir()
    sent = mail_file.read_text()
    assert "Subject: Test" in sent and "To: mock@example.com" in sent and "Test email" in sent


def test_without_the_setting_the_worker_fails_the_record_saying_how_to_register_it(shared_db, tmp_path):
    """The guide's "Mock Event Testing" in a shell: intake there knew the handler, the worker does not."""
    in_shell = f"from {MOCK_HANDLER.replace(':', ' import ')}\nevent_registry.register(MockEventHandler())"
    taken = shared_db.run_python(TAKE_IN_TEST_EVENT.format(register=in_shell))
    assert taken.split()[0] == "processed"

    first = run_worker_once(shared_db)
    again = run_worker_once(shared_db)

    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    status, reason = (shared_db.scalar(TEST_EVENT_RECORD.format(column=column)) for column in ("status", "reason"))
    detail = shared_db.scalar(TEST_EVENT_RECORD.format(column="error_detail"))
    assert (status, reason) == ("failed", "no_handler")
    assert 'NOTIFICATIONS["HANDLERS"] = ["module:Class"]' in detail and "NOTIFICATIONS_HANDLERS" in detail
    assert "mock@example.com" not in detail
    assert shared_db.scalar(TEST_EVENT_RECORD.format(column="next_attempt_at")) is None  # not retried
    assert "claimed=1 sent=0 retrying=0 failed=1" in first.stdout and "event_type=test.event" in first.stderr
    assert "claimed=0" in again.stdout  # failed for good: the second worker finds nothing due
    assert not (tmp_path / "var" / "mail").exists() or not list((tmp_path / "var" / "mail").iterdir())
