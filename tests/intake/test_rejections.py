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
