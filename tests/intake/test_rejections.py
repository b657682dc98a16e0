"""Rejections: stored once per Kafka origin however often the message is redelivered; any event's validation
failure is that event's rejection, never the batch's."""

from __future__ import annotations

import json

import pytest

from notifications.enums import Outcome, RejectionReason
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import event_registry
from notifications.intake import rejections
from notifications.intake.service import process_events
from notifications.testing import make_event

pytestmark = pytest.mark.django_db(transaction=True)

BIG_NUMBER = b'{"event_type": "task.assigned", "tenant_id": "acme", "payload": {"n": ' + b"9" * 5000 + b"}}"


def _origin(offset: int, topic: str = "orders", partition: int = 3) -> dict:
    return {"topic": topic, "partition": partition, "offset": offset, "timestamp": 1_700_000_000_000}


def test_a_redelivered_rejection_is_stored_once_and_its_result_names_the_first():
    good = json.dumps(make_event("task.assigned") | {"event_id": "t-1"}).encode()
    batch = [b"{oops", good, BIG_NUMBER]
    origins = [_origin(10), _origin(11), _origin(12)]

    first = process_events(batch, source="orders", origins=origins)
    again = process_events(batch, source="orders", origins=origins)  # e.g. a crash before the offset commit

    assert [r.outcome for r in first] == [Outcome.REJECTED, Outcome.PROCESSED, Outcome.REJECTED]
    assert [r.outcome for r in again] == [Outcome.REJECTED, Outcome.DUPLICATE, Outcome.REJECTED]
    assert RejectedEvent.objects.count() == 2
    assert {first[0].rejected_id, first[2].rejected_id} == set(RejectedEvent.objects.values_list("pk", flat=True))
    assert again[0].rejected_id == first[0].rejected_id and again[2].rejected_id == first[2].rejected_id
    assert RejectedEvent.objects.get(pk=first[2].rejected_id).origin_key == "orders/3/12"



def test_the_same_offset_of_another_partition_or_topic_is_another_rejection():
    process_events([b"{a", b"{b", b"{c"], source="orders",
                   origins=[_origin(5), _origin(5, partition=4), _origin(5, topic="billing")])

    assert RejectedEvent.objects.count() == 3


def test_rejections_without_an_origin_are_stored_each_time():
    process_events([b"{oops"], source="api")
    process_events([b"{oops"], source="api")
    results = process_events([b"{a", b"{b"], source="orders", origins=[_origin(1), {}])

    assert RejectedEvent.objects.count() == 4
    assert all(result.rejected_id for result in results)


def test_the_big_integer_message_is_rejected_with_a_reason_and_the_batch_goes_on():
    good = make_event("task.assigned")

    results = process_events([BIG_NUMBER, json.dumps(good).encode()])

    assert results[0].reason == RejectionReason.INVALID_JSON
    assert results[0].detail == "invalid JSON: number too large (5000 digits)"
    assert results[1].outcome == Outcome.PROCESSED and Event.objects.count() == 1


def test_the_last_net_rejects_only_the_event_whose_validation_raised(monkeypatch):
    real = rejections.validate_event

    def flaky(raw, registry):
        if raw == b"boom":
            raise MemoryError
        return real(raw, registry)

    monkeypatch.setattr(rejections, "validate_event", flaky)
    results = process_events([b"boom", json.dumps(make_event("task.assigned")).encode()])

    assert results[0].reason == RejectionReason.PROCESSING_ERROR
    assert results[0].detail == "validating the event failed: MemoryError"
    assert results[1].outcome == Outcome.PROCESSED
    assert event_registry.get_handler("task.assigned")


GOOD = make_event("task.assigned")


@pytest.mark.parametrize(
    ("raw", "reason", "detail"),
    [
        ("[" * 100_000, RejectionReason.INVALID_JSON, "nested too deeply"),
        ({**GOOD, "payload": {**GOOD["payload"], "deep": json.loads("[" * 60 + "]" * 60)}},
         RejectionReason.INVALID_FIELD, "nested deeper"),
        ('{"event_type": "task.assigned\\ud800", "tenant_id": "acme", "timestamp": "2026-01-01T00:00:00",'
         ' "payload": {}}', RejectionReason.INVALID_FIELD, "surrogate"),
        ({**GOOD, "payload": {**GOOD["payload"], "task_title": "a\x00b"}}, RejectionReason.INVALID_FIELD, "NUL"),
        ({**GOOD, "timestamp": "9999-12-31T23:30:00-01:00"}, RejectionReason.INVALID_FIELD, "timestamp"),
        (make_event("task.assigned", user_id="u" * 200), RejectionReason.INVALID_PAYLOAD_FIELD, "user_id"),
        (make_event("user.registration.completed", first_name="n" * 151), RejectionReason.INVALID_PAYLOAD_FIELD,
         "first_name"),
        (make_event("task.assigned", email='a"b@x.co'), RejectionReason.INVALID_PAYLOAD_FIELD, "email"),
        (make_event("task.assigned", email="a,b@x.co"), RejectionReason.INVALID_PAYLOAD_FIELD, "email"),
    ],
)
def test_poison_event_is_rejected_and_kept_while_the_rest_of_the_batch_goes_on(raw, reason, detail):
    results = process_events([raw, make_event("content.liked")])

    assert results[0].outcome == Outcome.REJECTED and results[0].reason == reason, str(results[0])
    assert detail in results[0].detail
    assert results[1].outcome == Outcome.PROCESSED
    assert RejectedEvent.objects.filter(pk=results[0].rejected_id, reason=reason.value).exists()


VALID = make_event("user.registration.completed")


def _without(key: str) -> dict:
    event = dict(VALID)
    event.pop(key)
    return event


@pytest.mark.parametrize(
    ("raw", "reason", "detail_part"),
    [
        ("{not json", RejectionReason.INVALID_JSON, "invalid JSON"),
        (b"\xff\xfe", RejectionReason.INVALID_JSON, "not UTF-8"),
        (_without("tenant_id"), RejectionReason.MISSING_TENANT_ID, "tenant_id"),
        ({**VALID, "tenant_id": "  "}, RejectionReason.MISSING_TENANT_ID, "tenant_id"),
        (_without("timestamp"), RejectionReason.MISSING_FIELD, "timestamp"),
        (_without("payload"), RejectionReason.MISSING_FIELD, "payload"),
        (_without("event_type"), RejectionReason.MISSING_FIELD, "event_type"),
        ({**VALID, "timestamp": "yesterday"}, RejectionReason.INVALID_FIELD, "ISO 8601"),
        ({**VALID, "payload": ["a"]}, RejectionReason.INVALID_FIELD, "payload must be"),
        ({**VALID, "tenant_id": "bad tenant!"}, RejectionReason.INVALID_FIELD, "tenant_id"),
        ([1, 2], RejectionReason.INVALID_FIELD, "JSON object"),
        ({**VALID, "event_type": "order.shipped"}, RejectionReason.UNSUPPORTED_EVENT_TYPE, "order.shipped"),
        (make_event("invoice.payment.failed", amount="lots"), RejectionReason.INVALID_PAYLOAD_FIELD, "amount"),
        (make_event("task.assigned", task_id=None), RejectionReason.INVALID_PAYLOAD_FIELD, "task_id"),
        (make_event("auth.2fa.code.requested", method="carrier-pigeon"), RejectionReason.INVALID_PAYLOAD_FIELD,
         "method"),
        (make_event("user.registration.completed", temp_password=None), RejectionReason.INVALID_PAYLOAD_FIELD,
         "temp_password is required"),
        (make_event("user.login.failed", email="not-an-address"), RejectionReason.INVALID_PAYLOAD_FIELD, "email"),
    ],
)
def test_bad_event_is_rejected_with_reason_and_kept(raw, reason, detail_part):
    result = event_registry.process_event(raw)

    assert result.outcome == Outcome.REJECTED
    assert result.reason == reason
    assert detail_part in result.detail
    assert str(result).startswith(f"rejected ({reason.value})")
    stored = RejectedEvent.objects.get(pk=result.rejected_id)
    assert stored.reason == reason.value
    assert stored.original_encrypted and stored.original_redacted
    assert Event.objects.count() == 0


def test_bad_events_do_not_block_the_good_ones_in_a_batch():
    batch = ["{oops", make_event("task.assigned"), {"event_type": "x"}, make_event("content.liked")]

    results = process_events(batch)

    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.PROCESSED, Outcome.REJECTED, Outcome.PROCESSED]
    assert Event.objects.count() == 2
    assert RejectedEvent.objects.count() == 2
