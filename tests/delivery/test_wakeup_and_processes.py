"""Idle workers wake when intake commits work (NOTIFY on PostgreSQL, an event in one process), and `--processes`
runs several copies of a command under one supervisor."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from notifications.delivery.wakeup import DueWaiter
from notifications.intake.service import process_events
from notifications.testing import make_event
from notifications.utils.processes import run_copies

ROOT = Path(__file__).resolve().parent.parent.parent


@pytest.mark.django_db(transaction=True)
def test_an_idle_worker_wakes_when_intake_commits_an_email(tenant):
    waiter = DueWaiter()
    waiter.wait(0.01)  # LISTEN is in place before the event arrives (PostgreSQL)
    woke: list[float] = []

    def wait() -> None:
        started = time.monotonic()
        waiter.wait(20)
        woke.append(time.monotonic() - started)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.3)
    process_events([make_event("user.login.succeeded", "acme", email="john@example.com")])
    thread.join(30)
    waiter.close()
    assert woke and woke[0] < 10, woke


@pytest.mark.django_db(transaction=True)
def test_only_in_app_work_does_not_wake_the_worker(tenant):
    waiter = DueWaiter()
    waiter.wait(0.01)
    # in-app only (the user has no device for push): the worker has nothing to send
    process_events([make_event("content.liked", "acme", user_id="u-without-devices")])
    started = time.monotonic()
    waiter.wait(1.0)
    waiter.close()
    assert time.monotonic() - started >= 0.9


def test_run_copies_returns_the_exit_code_of_a_failed_copy():
    assert run_copies("check", lambda index: [], 2) == 0
    assert run_copies("no_such_command", lambda index: [], 2) != 0


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
