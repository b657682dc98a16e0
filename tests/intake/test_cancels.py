"""notifications/intake/cancels.py: the `notification.cancel` event goes through intake like any event (stored,
deduplicated, rejected with a reason when bad), plans no records, and cancels the key's records written before
it, in the batch's order; its result says how many."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from notifications.delivery.models import NotificationRecord
from notifications.delivery.secrets import PURGED_MARKER
from notifications.enums import Outcome, RejectionReason, Status
from notifications.events.models import Event, RejectedEvent
from notifications.intake.service import process_events
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

LATER = "2026-12-07T09:00:00Z"


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 12, 6, 9, 0, tzinfo=UTC), tick=False):
        yield


def reminder(n: int, key: str = "appt-1", tenant_id: str = "acme") -> dict:
    return {**make_event("task.assigned", tenant_id, task_id=f"T-{n}"), "event_id": f"task-{n}", "cancel_key": key,
            "deliver_at": LATER}


def cancel_event(key: object = "appt-1", tenant_id: str = "acme", event_id: str = "cancel-1") -> dict:
    return {**make_event("notification.cancel", tenant_id), "payload": {"cancel_key": key}, "event_id": event_id}


def statuses(result) -> set[tuple[str, str]]:
    return set(NotificationRecord.objects.filter(event_id=result.event_id).values_list("status", "reason"))


def test_a_cancel_event_is_taken_in_stored_and_cancels_the_earlier_records(tenant):
    [first] = process_events([reminder(1)])
    [cancelled] = process_events([cancel_event()])

    assert cancelled.outcome == Outcome.PROCESSED and cancelled.records == ()
    assert cancelled.detail == "cancelled 3 notification(s)"  # email, in_app and push of the reminder
    assert statuses(first) == {(Status.CANCELLED, "cancelled")}
    assert Event.objects.get(pk=cancelled.event_id).event_type == "notification.cancel"
    assert not NotificationRecord.objects.filter(event_id=cancelled.event_id).exists()


def test_a_cancel_that_finds_nothing_says_so(tenant):
    [result] = process_events([cancel_event("nothing-here")])
    assert (result.outcome, result.detail) == (Outcome.PROCESSED, "cancelled 0 notification(s)")


def test_a_redelivered_cancel_is_a_duplicate(tenant):
    process_events([reminder(1)])
    process_events([cancel_event()])
    [again] = process_events([cancel_event()])
    assert again.outcome == Outcome.DUPLICATE


@pytest.mark.parametrize(("payload", "words"), [
    ({}, "cancel_key: Field required"),
    ({"cancel_key": ""}, "non-empty string of at most 200"),
    ({"cancel_key": "   "}, "non-empty string"),
    ({"cancel_key": "k" * 201}, "at most 200 characters"),
    ({"cancel_key": 7}, "non-empty string"),
    ({"cancelKey": "appt-1"}, "cancel_key: Field required"),
])
def test_a_bad_cancel_event_is_rejected_with_the_reason_and_cancels_nothing(tenant, payload, words):
    [first] = process_events([reminder(1)])
    [result] = process_events([{**make_event("notification.cancel"), "payload": payload}])

    assert (result.outcome, result.reason) == (Outcome.REJECTED, RejectionReason.INVALID_PAYLOAD_FIELD)
    assert words in result.detail, result.detail
    assert RejectedEvent.objects.filter(event_type="notification.cancel").count() == 1
    assert {status for status, _ in statuses(first)} == {Status.SCHEDULED}


def test_in_one_batch_a_cancel_takes_the_events_before_it_not_after_it(tenant):
    before, cancelled, after = process_events([reminder(1), cancel_event(), reminder(2)])

    assert statuses(before) == {(Status.CANCELLED, "cancelled")}
    assert {status for status, _ in statuses(after)} == {Status.SCHEDULED}
    assert cancelled.detail == "cancelled 3 notification(s)"
    assert {r.status for r in before.records} == {Status.CANCELLED}  # the batch's results say so too


def test_two_cancels_of_one_key_in_a_batch_each_count_their_own(tenant):
    process_events([reminder(1)])
    results = process_events([reminder(2), cancel_event(event_id="c-1"), reminder(3),
                              cancel_event(event_id="c-2"), reminder(4)])

    assert [r.detail for r in results] == ["", "cancelled 6 notification(s)", "", "cancelled 3 notification(s)", ""]
    assert {status for status, _ in statuses(results[4])} == {Status.SCHEDULED}


def test_a_tenants_cancel_event_never_touches_another_tenants_records(tenant):
    [acme] = process_events([reminder(1)])
    [globex] = process_events([cancel_event(tenant_id="globex")])
    assert globex.detail == "cancelled 0 notification(s)"
    assert {status for status, _ in statuses(acme)} == {Status.SCHEDULED}


def test_cancelled_in_its_own_batch_an_events_secrets_are_purged(tenant):
    code = {**make_event("auth.2fa.code.requested"), "event_id": "code-1", "cancel_key": "login-1"}
    [sent_code, _] = process_events([code, cancel_event("login-1")])

    assert statuses(sent_code) == {(Status.CANCELLED, "cancelled")}
    assert Event.objects.get(pk=sent_code.event_id).payload["code"] == {PURGED_MARKER: True}


@pytest.mark.parametrize("timing", [{"delay": 60}, {"deliver_at": LATER}, {"deliver_at": "2020-01-01T00:00:00Z"}])
def test_a_cancel_asking_for_a_time_of_its_own_is_refused_not_applied_at_once(tenant, timing):
    [first] = process_events([reminder(1)])
    [result] = process_events([{**cancel_event(), **timing}])

    assert (result.outcome, result.reason) == (Outcome.REJECTED, RejectionReason.INVALID_FIELD)
    assert "deliver_at and delay are refused" in result.detail
    assert {status for status, _ in statuses(first)} == {Status.SCHEDULED}
    assert not Event.objects.filter(event_type="notification.cancel").exists()
