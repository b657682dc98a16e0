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


def test_forked_copies_return_the_exit_code_of_a_failed_copy(tmp_path):
    """A supervisor with no other thread forks its copies (the way manage.py runs it)."""
    script = ("import sys, django; django.setup()\n"
              "from notifications.utils.processes import run_copies\n"
              "ok = run_copies('check', lambda index: [], 2)\n"
              "failed = run_copies('no_such_command', lambda index: [], 2)\n"
              "sys.exit(0 if (ok, failed != 0) == (0, True) else 3)\n")
    env = {**{k: v for k, v in os.environ.items() if k != "DATABASE_URL"}, "NOTIFICATIONS_VAR_DIR": str(tmp_path),
           "DJANGO_SETTINGS_MODULE": "notification_service.settings"}
    finished = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
    assert finished.returncode == 0, finished.stderr
    assert "Unknown command: 'no_such_command'" in finished.stderr  # from a forked copy


def test_copies_of_a_threaded_process_start_afresh_and_return_exit_codes():
    """Forking a process that has threads could copy a held lock: such a supervisor starts new interpreters."""
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait, daemon=True)
    helper.start()
    try:
        assert run_copies("check", lambda index: [], 2) == 0
        assert run_copies("no_such_command", lambda index: [], 2) != 0
    finally:
        stop.set()


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


def test_settle_heap_moves_what_start_up_loaded_out_of_the_collectors_view():
    import gc

    from notifications.utils.processes import settle_heap

    gc.unfreeze()
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # Django and the service's modules
        assert sum(gc.get_count()) < 100  # collected first: nothing young is carried into the frozen set
    finally:
        gc.unfreeze()
