"""Idle workers wake when intake commits work (NOTIFY on PostgreSQL, an event in one process)."""

from __future__ import annotations

import threading
import time

import pytest

from notifications.delivery.wakeup import DueWaiter
from notifications.intake.service import process_events
from notifications.testing import make_event


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
