"""The cancel event on a real broker: a scheduled event with a cancel_key, then a `notification.cancel` with the
key, both published to Kafka and taken in by the consumer; the records end cancelled and are never sent. In one
batch the cancel takes what came before it, not what came after; a bad cancel is a rejection like any other."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from notifications.delivery.engine import deliver_until_idle
from notifications.enums import RejectionReason, Status
from notifications.events.models import RejectedEvent
from notifications.kafka.admin import ensure_topics
from notifications.kafka.consumer import BatchConsumer
from notifications.models import Event, NotificationRecord
from notifications.testing import make_event
from notifications.utils.kafka_producer import publish_event_sync
from tests.kafka.conftest import unique

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def consume(topic: str, group: str, tenant_id: str, events: int, timeout: float = 60.0) -> None:
    consumer = BatchConsumer(topics=[topic], group_id=group, batch_size=100)
    deadline = time.monotonic() + timeout
    taken = lambda: Event.objects.filter(tenant_id=tenant_id).count() + RejectedEvent.objects.filter(  # noqa: E731
        tenant_id=tenant_id).count()
    consumer.run(stop_when=lambda c: taken() >= events or time.monotonic() > deadline)
    assert taken() >= events, f"only {taken()} of {events} events taken in"


def reminder(tenant_id: str, n: int, key: str = "appt-1") -> dict:
    due = (timezone.now() + timedelta(hours=1)).isoformat()
    return {**make_event("task.assigned", tenant_id, task_id=f"T-{n}", email=f"user{n}@example.com"),
            "event_id": f"r-{n}", "cancel_key": key, "deliver_at": due}


def cancel_event(tenant_id: str, key: str = "appt-1", event_id: str = "c-1") -> dict:
    return {**make_event("notification.cancel", tenant_id), "payload": {"cancel_key": key}, "event_id": event_id}


def records_of(tenant_id: str, event_id: str) -> set[tuple[str, str]]:
    return set(NotificationRecord.objects.filter(tenant_id=tenant_id, event__dedupe_key=f"id:{event_id}")
               .values_list("status", "reason"))


def send_everything_due_tomorrow() -> None:
    with time_machine.travel(timezone.now() + timedelta(days=1), tick=False):
        deliver_until_idle()


def test_a_published_cancel_cancels_the_scheduled_event_and_it_is_never_sent(kafka_settings):
    topic, tenant_id, group = unique("cancel"), unique("t"), unique("g")
    ensure_topics([topic], partitions=1, replication_factor=1)
    publish_event_sync(topic, reminder(tenant_id, 1))
    consume(topic, group, tenant_id, 1)
    assert {status for status, _ in records_of(tenant_id, "r-1")} >= {Status.SCHEDULED}

    publish_event_sync(topic, cancel_event(tenant_id))
    consume(topic, group, tenant_id, 2)

    assert (Status.CANCELLED, "cancelled") in records_of(tenant_id, "r-1")
    assert {status for status, _ in records_of(tenant_id, "r-1")} <= {Status.CANCELLED, Status.SKIPPED}
    assert Event.objects.filter(tenant_id=tenant_id, event_type="notification.cancel").count() == 1
    send_everything_due_tomorrow()
    assert mail.outbox == []
    assert {status for status, _ in records_of(tenant_id, "r-1")} <= {Status.CANCELLED, Status.SKIPPED}


def test_in_one_batch_the_cancel_takes_what_came_before_it_and_a_bad_cancel_is_rejected(kafka_settings):
    topic, tenant_id, group = unique("cancel-batch"), unique("t"), unique("g")
    ensure_topics([topic], partitions=1, replication_factor=1)
    for event in (reminder(tenant_id, 1), cancel_event(tenant_id), reminder(tenant_id, 2),
                  {**cancel_event(tenant_id, event_id="c-bad"), "payload": {"cancel_key": ""}}):
        publish_event_sync(topic, event)

    consume(topic, group, tenant_id, 4)

    assert (Status.CANCELLED, "cancelled") in records_of(tenant_id, "r-1")
    assert Status.SCHEDULED in {status for status, _ in records_of(tenant_id, "r-2")}
    [rejected] = RejectedEvent.objects.filter(tenant_id=tenant_id)
    assert (rejected.event_type, rejected.reason) == ("notification.cancel", RejectionReason.INVALID_PAYLOAD_FIELD)
    send_everything_due_tomorrow()
    assert [message.to for message in mail.outbox] == [["user2@example.com"]]
