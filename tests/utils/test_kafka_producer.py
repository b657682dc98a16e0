from __future__ import annotations

import asyncio
import textwrap
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from notifications.enums import Outcome
from notifications.kafka.errors import KafkaPublishError
from notifications.models import Event, NotificationRecord
from notifications.testing import make_event
from notifications.utils.kafka_producer import publish_event, publish_event_sync

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db(transaction=True)
def test_guides_publish_event_feeds_local_intake_without_kafka(tenant):
    tenant_id = tenant.id

    async def auth_service() -> None:
        await publish_event('billing-events', {
            'event_type': 'invoice.payment.failed',
            'tenant_id': tenant_id,
            'timestamp': datetime.utcnow().isoformat(),
            'payload': {
                'user_id': str(42),
                'invoice_id': 1001,
                'amount': float("19.99"),
                'currency': 'EUR',
                'failure_reason': 'insufficient_funds',
                'next_retry_date': datetime(2026, 12, 1).isoformat(),
                'payment_method': 'credit_card'
            }
        })
        # The guide's caller is async: Django ran intake in asgiref's worker thread; close its connection.
        await sync_to_async(connections.close_all)()

    asyncio.run(auth_service())

    event = Event.objects.get()
    assert (event.event_type, event.user_id, event.source) == ("invoice.payment.failed", "42", "billing-events")
    assert NotificationRecord.objects.filter(event=event).count() == 3


@pytest.mark.django_db
def test_publish_event_sync_serialises_datetimes(tenant):
    event = make_event("task.assigned")
    event["timestamp"] = datetime(2026, 11, 23, 9, 30)
    event["payload"]["due_date"] = datetime(2026, 11, 30, 17, 0)

    published = publish_event_sync("hr-events", event)

    assert published.result is not None and published.result.outcome == Outcome.PROCESSED
    stored = Event.objects.get()
    assert stored.occurred_at.isoformat() == "2026-11-23T09:30:00+00:00"
    assert stored.payload["due_date"] == "2026-11-30T17:00:00"  # naive stays naive; rendering reads UTC


@pytest.mark.django_db
def test_publish_event_sets_an_event_id_and_a_retry_of_the_same_dict_is_a_duplicate(tenant):
    event = make_event("task.assigned")
    event.pop("event_id", None)

    published = publish_event_sync("hr-events", event)

    assert str(uuid.UUID(published)) == published == event["event_id"]  # set on the caller's dict, returned
    assert published.result is not None and published.result.outcome == Outcome.PROCESSED
    # The retry after a timeout: the same dict, its timestamp rebuilt.
    event["timestamp"] = datetime(2026, 12, 1, 8, 0).isoformat()
    again = publish_event_sync("hr-events", event)
    assert again == published and again.result is not None and again.result.outcome == Outcome.DUPLICATE
    assert Event.objects.count() == 1 and Event.objects.get().event_id == published


@pytest.mark.django_db
def test_a_rebuilt_event_that_sends_the_returned_id_is_a_duplicate(tenant):
    first = make_event("task.assigned")
    first.pop("event_id", None)
    event_id = publish_event_sync("hr-events", first)

    rebuilt = {**make_event("task.assigned"), "timestamp": datetime(2026, 12, 1).isoformat(), "event_id": event_id}
    again = publish_event_sync("hr-events", rebuilt)

    assert again == event_id and again.result is not None and again.result.outcome == Outcome.DUPLICATE
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_publish_event_keeps_the_callers_own_event_id(tenant):
    event = {**make_event("task.assigned"), "event_id": 4711}

    published = publish_event_sync("hr-events", event)

    assert published == "4711" and event["event_id"] == 4711  # not replaced, only read
    assert Event.objects.get().event_id == "4711"


@pytest.mark.django_db(transaction=True)
def test_async_publish_event_returns_the_id_it_set(tenant):
    event = make_event("comment.mentioned")
    event.pop("event_id", None)

    async def publish() -> str:
        published = await publish_event("app-events", event)
        await sync_to_async(connections.close_all)()
        return published

    published = asyncio.run(publish())

    assert published == event["event_id"] and Event.objects.get().event_id == published


@pytest.mark.django_db(transaction=True)
def test_the_readmes_retry_pattern_is_deduplicated(tenant):
    """README's "Retrying safely" block, run as written: the first publish reaches intake but times out for the
    caller, the retry (timestamp rebuilt) is a duplicate."""
    text = (ROOT / "README.md").read_text()
    block = text.split("**Retrying safely.**", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    results = []

    async def flaky_publish(topic, event):
        published = await publish_event(topic, event)
        results.append(published.result.outcome)
        if len(results) == 1:
            raise KafkaPublishError("not confirmed in time")
        return published

    namespace = {"publish_event": flaky_publish, "datetime": datetime, "KafkaPublishError": KafkaPublishError}
    exec("async def run():\n" + textwrap.indent(block, "    ") + "\n    return event, event_id\n", namespace)  # noqa: S102 - the README's own code

    async def run():
        answer = await namespace["run"]()
        await sync_to_async(connections.close_all)()
        return answer

    event, event_id = asyncio.run(run())

    assert results == [Outcome.PROCESSED, Outcome.DUPLICATE]
    assert event_id == event["event_id"] and Event.objects.get().event_id == event_id


@pytest.mark.django_db
def test_the_id_given_is_the_events_content_so_an_identical_rebuilt_event_is_still_a_duplicate(tenant):
    def build() -> dict:
        return make_event("task.assigned", timestamp=datetime(2026, 12, 6, 9, 0))

    first, rebuilt, other = build(), build(), {**build(), "timestamp": "2026-12-06T09:00:01"}
    one, two, three = publish_event_sync("t", first), publish_event_sync("t", rebuilt), publish_event_sync("t", other)
    assert one == two != three and uuid.UUID(one).version == 5
    assert (one.result.outcome, two.result.outcome, three.result.outcome) == (
        Outcome.PROCESSED, Outcome.DUPLICATE, Outcome.PROCESSED)


@pytest.mark.django_db
def test_a_dict_reused_for_another_event_gets_another_id_and_a_retry_of_the_same_keeps_its_own(tenant):
    event = make_event("task.assigned", "acme", user_id="u1")
    first = publish_event_sync("events", event)
    event["timestamp"] = "2026-12-06T10:00:00"  # a retry, rebuilt timestamp: the same event
    retry = publish_event_sync("events", event)
    event["payload"]["user_id"], event["payload"]["email"] = "u2", "u2@example.com"  # the dict reused for u2
    second = publish_event_sync("events", event)
    assert retry == first != second
    assert (retry.result.outcome, second.result.outcome) == (Outcome.DUPLICATE, Outcome.PROCESSED)
    own = {**make_event("task.assigned", "acme", user_id="u3"), "event_id": "mine-1"}
    assert publish_event_sync("events", own) == "mine-1" and own["event_id"] == "mine-1"
