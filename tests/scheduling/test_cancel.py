"""notifications/scheduling/cancel.py: cancel(tenant, key) takes the key's records not yet sent (pending,
scheduled, retrying) of that tenant only, answers the exact number, leaves a record a worker claimed (live or
expired lease), and purges the secrets of events it makes final. On PostgreSQL a cancel raced against a
worker's claim ends one way or the other, never both."""

from __future__ import annotations

import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections, transaction

from notifications.delivery.claims import claim_due
from notifications.delivery.models import NotificationRecord
from notifications.delivery.secrets import PURGED_MARKER
from notifications.enums import Status
from notifications.events.models import Event
from notifications.intake.service import process_events
from notifications.scheduling.cancel import CancelReason, cancel
from notifications.testing import make_event
from tests.helpers import plan_of

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _take_in(event_type="task.assigned", key="appt-1", tenant_id="acme", **envelope):
    event = {**make_event(event_type, tenant_id), "event_id": uuid.uuid4().hex, **envelope}
    if key:
        event["cancel_key"] = key
    [result] = process_events([event])
    assert result.outcome == "processed", str(result)
    return result


def _statuses(result):
    return {r.channel: (r.status, r.reason) for r in NotificationRecord.objects.filter(event_id=result.event_id)}


@pytest.mark.django_db
def test_cancel_takes_the_keys_waiting_records_of_its_tenant_and_counts_exactly(tenant, clock):
    later = "2026-12-06T18:00:00Z"
    scheduled = _take_in(deliver_at=later)  # email, in_app, push: all scheduled
    pending = _take_in("invoice.payment.failed")  # email, sms, push: pending
    other_key = _take_in(key="appt-2", deliver_at=later)
    no_key = _take_in(key=None, deliver_at=later)
    globex = _take_in(tenant_id="globex", deliver_at=later)

    assert cancel("acme", "appt-1") == 6
    assert cancel("acme", "appt-1") == 0  # nothing left: the answer is what was cancelled, not what matched

    cancelled = (Status.CANCELLED, CancelReason.CANCELLED)
    assert set(_statuses(scheduled).values()) == set(_statuses(pending).values()) == {cancelled}
    rows = NotificationRecord.objects.filter(event_id__in=[scheduled.event_id, pending.event_id])
    assert {(r.next_attempt_at, r.claim_token) for r in rows} == {(None, None)}
    for untouched in (other_key, no_key, globex):  # globex's user has no device: its push record is skipped
        assert {status for status, _ in _statuses(untouched).values()} - {Status.SKIPPED} == {Status.SCHEDULED}


@pytest.mark.django_db
def test_a_cancelled_record_is_never_sent(tenant, deliver, clock):
    result = _take_in(deliver_at="2026-12-06T10:00:00Z")
    cancel("acme", "appt-1")
    clock.move_to(NOW + timedelta(days=1))
    assert deliver().claimed == 0
    assert mail.outbox == []
    assert {status for status, _ in _statuses(result).values()} == {Status.CANCELLED}


@pytest.mark.django_db
def test_cancel_takes_a_retrying_record_and_leaves_sent_skipped_and_failed_ones(tenant, clock):
    result = _take_in()  # task.assigned: email and push pending, in_app sent at intake
    email = NotificationRecord.objects.get(event_id=result.event_id, channel="email")
    push = NotificationRecord.objects.get(event_id=result.event_id, channel="push")
    NotificationRecord.objects.filter(pk=email.pk).update(status=Status.RETRYING, attempts=1)
    NotificationRecord.objects.filter(pk=push.pk).update(status=Status.FAILED)

    assert cancel("acme", "appt-1") == 1
    assert _statuses(result) == {"email": (Status.CANCELLED, "cancelled"), "push": (Status.FAILED, ""),
                                 "in_app": (Status.SENT, "")}


@pytest.mark.django_db
@pytest.mark.parametrize("lease", ["live", "expired"])
def test_a_record_a_worker_claimed_stays_with_the_claim(tenant, clock, deliver, lease):
    """The claim won: a 'sending' record is not cancelled, even once its lease ran out (the worker may be inside
    a provider call that outlasted it); the next claim sends it."""
    result = _take_in("invoice.payment.failed")
    token = uuid.uuid4()
    claimed = claim_due(100, NOW, token)
    assert len(claimed) == 3
    if lease == "expired":
        clock.move_to(NOW + timedelta(hours=1))

    assert cancel("acme", "appt-1") == 0
    assert {status for status, _ in _statuses(result).values()} == {Status.SENDING}
    if lease == "expired":
        deliver()
        assert [m.to for m in mail.outbox] == [["john@example.com"]]


@pytest.mark.django_db
def test_cancelling_the_last_open_record_purges_the_events_secrets(tenant, clock):
    result = _take_in("auth.2fa.code.requested", key="login-7")  # one sms record, the code sealed
    sealed = Event.objects.get(pk=result.event_id).payload["code"]
    assert sealed != {PURGED_MARKER: True}

    assert cancel("acme", "login-7") == 1

    assert Event.objects.get(pk=result.event_id).payload["code"] == {PURGED_MARKER: True}


@pytest.mark.django_db
def test_an_event_with_a_record_still_open_keeps_its_secrets(tenant, clock):
    result = _take_in("user.password.reset.requested", key="reset-1")  # email and sms
    NotificationRecord.objects.filter(event_id=result.event_id, channel="sms").update(cancel_key="other")
    assert cancel("acme", "reset-1") == 1
    assert Event.objects.get(pk=result.event_id).payload["reset_token"] != {PURGED_MARKER: True}


@pytest.mark.parametrize("key", ["", "   ", "k" * 201, None, 42, "a\x00b"])
def test_a_key_that_cannot_be_one_is_refused_with_the_reason(key):
    with pytest.raises(ValueError, match="cancel_key"):
        cancel("acme", key)


@pytest.mark.django_db
def test_the_cancel_reads_the_cancel_key_index(tenant):
    """The partial index's condition (open records with a key) is seen to hold for the UPDATE's WHERE."""
    if connection.vendor != "postgresql":
        pytest.skip("the partial index plan is PostgreSQL's")
    from notifications.scheduling.cancel import cancel_records

    # Plain index scans off: on a near-empty table (or with the statistics a long test run leaves) the planner
    # may walk the primary key for the statement's ORDER BY id instead. With only bitmap scans left, the partial
    # index is used exactly when its condition is proven to hold for the WHERE, which is what this test is about.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = plan_of(lambda: cancel_records("acme", "cancelled", keys=["appt-1"], keep=[1, 2]))
    assert "record_cancel_key_idx" in plan, plan


# The race, on PostgreSQL: a worker's claim against a cancel, each on its own connection.

def _race(cancel_first: float, claim_first: float) -> tuple[int, int]:
    """(records the cancel took, records the worker sent) for one waiting record, both started together."""
    from notifications.delivery.engine import deliver_until_idle

    barrier = threading.Barrier(2)
    answers: dict[str, int] = {}

    def worker() -> None:
        try:
            barrier.wait()
            threading.Event().wait(claim_first)
            answers["sent"] = deliver_until_idle().sent
        finally:
            connections.close_all()

    def canceller() -> None:
        try:
            barrier.wait()
            threading.Event().wait(cancel_first)
            answers["cancelled"] = cancel("acme", "race")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker), threading.Thread(target=canceller)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers["cancelled"], answers["sent"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_a_workers_claim_wins_or_loses_never_both(tenant):
    """60 rounds of one e-mail record: a worker (claim, send, outcome) and a cancel start together, each on its
    own connection, one or the other nudged ahead by up to 2 ms or neither. Every round ends sent and not
    cancelled, or cancelled and not sent; both endings happen."""
    rng = random.Random(17)  # noqa: S311 - test timing, not security
    endings = []
    for round_ in range(60):
        mail.outbox = []
        event = {**make_event("user.login.succeeded"), "event_id": f"race-{round_}", "cancel_key": "race"}
        [result] = process_events([event])  # one e-mail record, pending
        nudge = rng.uniform(0, 0.002)
        cancelled, sent = _race(*[(nudge, 0.0), (0.0, nudge), (0.0, 0.0)][round_ % 3])
        record = NotificationRecord.objects.get(event_id=result.event_id)
        assert (cancelled, sent, len(mail.outbox), record.status) in {
            (1, 0, 0, Status.CANCELLED), (0, 1, 1, Status.SENT)}, (round_, cancelled, sent, record.status)
        endings.append(record.status)
    assert set(endings) == {Status.CANCELLED, Status.SENT}, endings
