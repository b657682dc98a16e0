"""The contact directory: filled by registrations, used by later events of the same tenant only; a payload's
address wins."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.enums import SkipReason, Status
from notifications.events.registry import event_registry
from notifications.models import Contact
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


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


def test_contacts_of_one_tenant_are_not_used_for_another(db, deliver):
    event_registry.process_event(make_event("user.registration.completed", "t1"))

    result = event_registry.process_event(make_event("task.assigned", "t2", email=None))

    [email] = [r for r in result.records if r.channel == "email"]
    assert email.reason == SkipReason.NO_ADDRESS
