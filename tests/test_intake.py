"""Batch intake: dedupe, recipients, tenants, query counts."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.delivery.models import NotificationRecord
from notifications.enums import Outcome, SkipReason, Status
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.models import Contact, Tenant
from notifications.testing import EXAMPLE_PAYLOADS, make_event

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


def test_unknown_tenant_is_processed_with_defaults(deliver):
    result = event_registry.process_event(make_event("user.registration.completed", "your-tenant-id"))
    deliver()

    assert result.outcome == Outcome.PROCESSED
    tenant = Tenant.objects.get(id="your-tenant-id")
    assert tenant.name == "your-tenant-id" and tenant.settings == {}
    assert "Welcome to your-tenant-id" in mail.outbox[0].subject


def test_registration_fills_the_contact_directory_used_by_later_events(tenant, deliver):
    event_registry.process_event(make_event("user.registration.completed"))
    contact = Contact.objects.get(tenant=tenant, user_id="u-1")
    assert (contact.email, contact.first_name, contact.last_name) == ("john@example.com", "John", "Doe")

    later = make_event("task.assigned", email=None)
    result = event_registry.process_event(later)
    deliver()

    [email_record] = [r for r in result.records if r.channel == "email"]
    assert email_record.status == Status.PENDING
    assert mail.outbox[-1].to == ["john@example.com"]
    assert mail.outbox[-1].body.startswith("Hi John,")


def test_payload_address_wins_over_the_directory(tenant, deliver):
    Contact.objects.create(tenant=tenant, user_id="u-1", email="old@example.com")

    event_registry.process_event(make_event("task.assigned", email="new@example.com"))
    deliver()

    assert mail.outbox[0].to == ["new@example.com"]


def test_channel_without_address_is_skipped_never_misrouted(tenant, deliver):
    event = make_event("invoice.payment.failed", email=None, phone=None, user_id="u-without-device")

    result = event_registry.process_event(event)
    deliver()

    by_channel = {r.channel: (r.status, r.reason) for r in result.records}
    assert by_channel == {
        "email": (Status.SKIPPED, SkipReason.NO_ADDRESS),
        "sms": (Status.SKIPPED, SkipReason.NO_ADDRESS),
        "push": (Status.SKIPPED, SkipReason.NO_ADDRESS),
    }
    assert mail.outbox == []


def test_contacts_of_one_tenant_are_not_used_for_another(db, deliver):
    event_registry.process_event(make_event("user.registration.completed", "t1"))

    result = event_registry.process_event(make_event("task.assigned", "t2", email=None))

    [email] = [r for r in result.records if r.channel == "email"]
    assert email.reason == SkipReason.NO_ADDRESS


def test_batch_intake_queries_do_not_grow_per_event(db, django_assert_max_num_queries):
    types = sorted(EXAMPLE_PAYLOADS)

    def batch(n: int, offset: int) -> list[dict]:
        return [make_event(types[i % len(types)], user_id=f"user-{offset + i}") for i in range(n)]

    process_events(batch(10, 0))  # warm-up: the tenant exists
    with django_assert_max_num_queries(18):  # a constant: COPY staging on PostgreSQL adds a few
        process_events(batch(11, 100))
    # 400 events make ~1,100 records; only bulk statements split by the database's parameter limit remain.
    with django_assert_max_num_queries(40):
        process_events(batch(400, 1000))
    assert Event.objects.count() == 421

