"""Dedupe at intake: an event seen before (by event_id or content, per tenant, inside one batch) makes
no new records."""

from __future__ import annotations

import pytest

from notifications.delivery.models import NotificationRecord
from notifications.enums import Outcome
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_same_event_twice_creates_no_new_records(tenant):
    event = make_event("task.assigned")

    first = event_registry.process_event(event)
    second = event_registry.process_event(event)

    assert first.outcome == Outcome.PROCESSED
    assert second.outcome == Outcome.DUPLICATE and second.event_id == first.event_id
    assert str(second).startswith("duplicate:")
    assert Event.objects.count() == 1
    assert NotificationRecord.objects.count() == 3


def test_event_id_is_the_dedupe_key_when_given(tenant):
    a = make_event("task.assigned") | {"event_id": "evt-1"}
    b = make_event("task.assigned", task_title="Another title") | {"event_id": "evt-1"}

    results = [event_registry.process_event(a), event_registry.process_event(b)]

    assert [r.outcome for r in results] == [Outcome.PROCESSED, Outcome.DUPLICATE]


def test_same_event_id_in_two_tenants_is_two_events(db):
    results = process_events([make_event("task.assigned", "t1") | {"event_id": "e"},
                              make_event("task.assigned", "t2") | {"event_id": "e"}])

    assert [r.outcome for r in results] == [Outcome.PROCESSED, Outcome.PROCESSED]


def test_duplicates_inside_one_batch(db):
    event = make_event("content.liked")

    results = process_events([event, event, make_event("content.liked", content_id="P-2")])

    assert [r.outcome for r in results] == [Outcome.PROCESSED, Outcome.DUPLICATE, Outcome.PROCESSED]
    assert Event.objects.count() == 2


def test_a_batch_replaying_seen_events_keeps_its_new_ones(db, caplog):
    """A redelivered batch: the events' fast insert hits the seen ones and falls back to skipping them; the
    batch's transaction goes on and the new events get their records."""
    seen = [make_event("task.assigned", task_id=f"T-{i}") for i in range(3)]
    first = process_events(seen)
    fresh = [make_event("task.assigned", task_id=f"N-{i}") for i in range(2)]

    results = process_events([seen[1], *fresh, seen[0]])

    assert [r.outcome for r in results] == [Outcome.DUPLICATE, Outcome.PROCESSED, Outcome.PROCESSED,
                                            Outcome.DUPLICATE]
    assert [results[0].event_id, results[3].event_id] == [first[1].event_id, first[0].event_id]
    assert Event.objects.count() == 5
    assert NotificationRecord.objects.filter(event_id__in=[r.event_id for r in results[1:3]]).count() == 6
    assert "one by one" not in caplog.text  # taken in as one batch, not by the per-event fallback
