"""notifications/digests/closing.py under concurrency, on PostgreSQL: events racing a window's close join it
or open the next window, never both and never neither; each window sends exactly one digest holding every event.
Each thread has its own database connection; the clock is time-machine's (frozen, moved by the test)."""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from notifications.channels.models import InAppMessage
from notifications.delivery.engine import DeliveryEngine, deliver_until_idle
from notifications.delivery.models import NotificationRecord
from notifications.digests.models import DigestWindow
from notifications.enums import Status
from notifications.intake.service import process_events
from notifications.testing import make_event

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
WINDOW = 60


def liked(user: str, by: str) -> dict[str, Any]:
    event = make_event("content.liked", user_id=user, liked_by=by, content_title=None, like_count=None)
    return {**event, "event_id": str(uuid.uuid4())}


@pytest.fixture
def digesting(tenant):
    tenant.settings = {**tenant.settings, "digests": {"content.liked": {"in_app": {"window_seconds": WINDOW}}},
                       "disabled_channels": {"content.liked": ["push"]}}
    tenant.save()
    return tenant


def _in_thread(work: Any, errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as err:  # noqa: BLE001 - reported by the test
            errors.append(err)
        finally:
            connection.close()

    return threading.Thread(target=run)


def assert_exactly_one_digest_per_window(events_sent: int) -> None:
    records = list(NotificationRecord.objects.filter(channel="in_app").values(
        "pk", "status", "reason", "digest_window"))
    windows = {w.pk: w for w in DigestWindow.objects.all()}
    assert len(records) == events_sent  # every event has its record
    assert all(w.state == "digested" for w in windows.values()), Counter(w.state for w in windows.values())
    members = Counter(r["digest_window"] for r in records)
    for record in records:
        window = windows[record["digest_window"]]
        if record["pk"] == window.digest_record_id:
            assert record["status"] == Status.SENT, record
        else:  # in its own window's digest, and no other
            assert (record["status"], record["reason"]) == (Status.SKIPPED, f"digested_into:{window.digest_record_id}")
    for window in windows.values():
        assert window.count == window.events == members[window.pk], window
    assert sum(w.count for w in windows.values()) == events_sent
    sent = list(InAppMessage.objects.values_list("record_id", flat=True))
    assert sorted(sent) == sorted(w.digest_record_id for w in windows.values())  # one message per window


def test_two_consumers_and_two_workers_racing_window_closes_make_one_digest_per_window(digesting, monkeypatch):
    """Consumer c2's clock runs 20 s behind c1's (two hosts): c1 closes windows past their close that c2 still
    joins, while batches of up to 80 events share keys. Without a global lock order (digests/windows.py
    _lock_keys) the two consumers deadlock on window rows."""
    skew = threading.local()
    frozen = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: frozen() + getattr(skew, "offset", timedelta(0)))
    rng = random.Random(3)  # noqa: S311 - test data
    users = [f"u-{n}" for n in range(40)]  # batches share keys: they lock windows in one order or deadlock
    sent = Counter[str]()
    batches = Counter[str]()
    stop = threading.Event()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def consumer(name: str) -> None:
        local = random.Random(name)  # noqa: S311 - test data
        skew.offset = timedelta(seconds=-20 if name == "c2" else 0)
        while not stop.is_set():
            batch = [liked(local.choice(users), f"{name}-{n}") for n in range(local.randint(1, 80))]
            process_events(batch)
            with lock:
                sent[name] += len(batch)
                batches[name] += 1

    def worker() -> None:
        engine = DeliveryEngine()
        while not stop.is_set():
            engine.deliver_due(batch_size=rng.choice([1, 2, 50]))

    with time_machine.travel(NOW, tick=False) as clock:
        threads = [_in_thread(lambda n=n: consumer(n), errors) for n in ("c1", "c2")]
        threads += [_in_thread(worker, errors) for _ in range(2)]
        for thread in threads:
            thread.start()
        moment = NOW
        for _ in range(24):  # 12 minutes in 30-second steps: every window closes while events keep coming
            seen = sum(batches.values())
            while sum(batches.values()) < seen + 6 and not errors:
                stop.wait(0.001)  # wait for the consumers' progress, not for time
            moment += timedelta(seconds=30)
            clock.move_to(moment)
        stop.set()
        for thread in threads:
            thread.join(60)
        assert not errors, errors
        clock.move_to(moment + timedelta(seconds=WINDOW))
        deliver_until_idle(engine=DeliveryEngine())

    total = sum(sent.values())
    assert total > 100
    windows = DigestWindow.objects.count()
    assert windows >= len(users) * 10  # many windows per key closed while the consumers ran
    assert_exactly_one_digest_per_window(total)


def test_a_close_waits_for_an_intake_batch_holding_the_window_and_takes_its_event(digesting):
    """Deterministic interleaving: a batch joined the window (its row locked) but has not committed when the
    worker closes it; the close waits for the batch and the digest holds its event."""
    errors: list[BaseException] = []
    joined, release = threading.Event(), threading.Event()
    with time_machine.travel(NOW, tick=False) as clock:
        process_events([liked("u-1", "Jane")])
        clock.move_to(NOW + timedelta(seconds=WINDOW - 1))

        def slow_batch() -> None:
            with transaction.atomic():
                process_events([liked("u-1", "Bob")])  # joins: the window is open at its `now`
                joined.set()
                release.wait(30)

        batch = _in_thread(slow_batch, errors)
        batch.start()
        assert joined.wait(30)
        clock.move_to(NOW + timedelta(seconds=WINDOW))
        close = _in_thread(lambda: DeliveryEngine().deliver_due(), errors)
        close.start()
        close.join(0.5)
        assert close.is_alive()  # the close waits for the batch's lock on the window
        release.set()
        batch.join(30)
        close.join(30)
    assert not errors, errors
    [message] = InAppMessage.objects.all()
    assert message.title == "Jane and 1 other liked your post"
    assert_exactly_one_digest_per_window(2)


def test_a_batch_after_the_close_opens_the_next_window(digesting):
    with time_machine.travel(NOW, tick=False) as clock:
        process_events([liked("u-1", "Jane")])
        clock.move_to(NOW + timedelta(seconds=WINDOW))
        DeliveryEngine().deliver_due()  # closed and sent
        process_events([liked("u-1", "Bob")])
        assert DigestWindow.objects.filter(state="open").count() == 1
        clock.move_to(NOW + timedelta(seconds=2 * WINDOW))
        deliver_until_idle(engine=DeliveryEngine())
    assert sorted(InAppMessage.objects.values_list("title", flat=True)) == [
        "Bob liked your post", "Jane liked your post"]
    assert_exactly_one_digest_per_window(2)
