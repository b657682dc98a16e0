"""A tenant-defined type end to end: created through the API, its events published through the API and through
`event_registry.process_event`, delivered by the real delivery worker (e-mail to the mail outbox, in-app to the
inbox), in the recipient's language, with the newest version, and for its own tenant only."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.channels.models import InAppMessage
from notifications.enums import RejectionReason
from notifications.events.models import RejectedEvent
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.tenants.models import Contact
from tests.tenant_types.helpers import NAME, definition, event

pytestmark = pytest.mark.django_db


@pytest.fixture
def defined(api_a):
    answer = api_a.post("/event-types", definition())
    assert answer.status_code == 201, answer.content
    return answer.json()


def _contact(user_id: str = "u-1", locale: str = "", tenant_id: str = "acme") -> None:
    Contact.objects.create(tenant_id=tenant_id, user_id=user_id, email=f"{user_id}@example.com", locale=locale)


def test_an_event_published_through_the_api_is_delivered_by_email_and_in_app(api_a, defined, deliver):
    _contact()

    answer = api_a.post("/events", event())
    deliver()

    assert answer.status_code == 200, answer.content
    assert answer.json()["results"][0]["outcome"] == "processed"
    assert set(NotificationRecord.objects.values_list("channel", "status")) == {("email", "sent"),
                                                                               ("in_app", "sent")}
    assert [message.subject for message in mail.outbox] == ["Order A-42 shipped"]
    assert "on its way with UPS" in mail.outbox[0].body
    inbox = InAppMessage.objects.get()
    assert (inbox.title, inbox.body, inbox.event_type) == ("Order A-42", "Shipped: 3 item(s)", NAME)


def test_process_event_takes_the_type_in_and_a_german_recipient_reads_german(defined, deliver):
    _contact(locale="de-DE")

    result = event_registry.process_event(event())
    deliver()

    assert result.ok, result
    assert [message.subject for message in mail.outbox] == ["Bestellung A-42 versandt"]


def test_a_payload_the_schema_refuses_is_rejected_naming_the_place_and_kept(api_a, defined):
    answer = api_a.post("/events", event(items=0, order_id="SECRET-VALUE" * 10))

    result = answer.json()["results"][0]
    assert result["outcome"] == "rejected" and result["reason"] == RejectionReason.INVALID_PAYLOAD_FIELD
    stored = RejectedEvent.objects.get()
    assert stored.event_type == NAME and stored.tenant_id == "acme"
    assert "/items" in stored.detail and "/order_id" in stored.detail
    assert "SECRET-VALUE" not in stored.detail  # the detail names places, never values
    assert NotificationRecord.objects.count() == 0


def test_an_update_is_used_for_the_next_event(api_a, defined, deliver):
    _contact()
    event_registry.process_event(event())
    deliver()

    changed = definition()["templates"]
    changed["email"]["en"]["subject"] = "Shipped again: {{ order_id }}"
    answer = api_a.put(f"/event-types/{NAME}", {"templates": changed})
    assert answer.status_code == 200, answer.content
    assert answer.json()["version"] == 2
    event_registry.process_event(event(order_id="B-7"))
    deliver()

    assert [message.subject for message in mail.outbox] == ["Order A-42 shipped", "Shipped again: B-7"]


def test_another_tenants_event_of_the_same_name_is_an_unknown_type(api_b, defined):
    answer = api_b.post("/events", event(tenant_id="globex"))

    result = answer.json()["results"][0]
    assert result["outcome"] == "rejected" and result["reason"] == RejectionReason.UNSUPPORTED_EVENT_TYPE


def test_a_deactivated_type_refuses_new_events_and_still_delivers_planned_records(api_a, defined, deliver):
    _contact()
    event_registry.process_event(event())

    assert api_a.delete(f"/event-types/{NAME}").json()["is_active"] is False
    refused = event_registry.process_event(event(order_id="B-8"))
    deliver()

    assert refused.reason == RejectionReason.UNSUPPORTED_EVENT_TYPE
    assert [message.subject for message in mail.outbox] == ["Order A-42 shipped"]
    records = api_a.get("/records").json()["items"]
    assert [(item["event_type"], item["status"]) for item in records] == [(NAME, "sent"), (NAME, "sent")]


def test_a_tenant_type_reaches_an_audience_through_the_fan_out_runner(api_a, defined, deliver):
    from notifications.audiences.runner import run_until_idle

    for user_id in ("u-1", "u-2"):
        _contact(user_id)
    published = event(user_id="ignored")
    del published["payload"]["user_id"]

    result = event_registry.process_event({**published, "recipients": ["u-1", "u-2"]})
    event_registry.forget_tenant_types()  # the runner prepares its job's type itself
    run_until_idle()
    deliver()

    assert result.ok and result.fanout_id is not None, result
    assert sorted(message.to[0] for message in mail.outbox) == ["u-1@example.com", "u-2@example.com"]
    assert sorted(InAppMessage.objects.values_list("user_id", flat=True)) == ["u-1", "u-2"]
