"""notifications/rendering/context.py: times are shown in the recipient's zone with its abbreviation, in every
channel, whether rendered at intake (in-app) or by the worker (e-mail, SMS, push): the contact's zone, else the
tenant's default_timezone, else UTC. Real renders of the default templates and of a tenant's template."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.channels.models import InAppMessage
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.rendering.context import build_context
from notifications.rendering.models import NotificationTemplate
from notifications.tenants.models import Contact
from notifications.testing import make_event
from tests.helpers import sent_push

pytestmark = pytest.mark.django_db


def _berliner(tenant, user_id="u-1"):
    return Contact.objects.create(tenant=tenant, user_id=user_id, email="john@example.com",
                                  timezone="Europe/Berlin")


@pytest.mark.parametrize(("due", "shown"), [
    ("2026-12-07T09:30:00Z", "December 7, 2026, 10:30 AM CET"),  # winter: UTC+1
    ("2026-07-07T09:30:00Z", "July 7, 2026, 11:30 AM CEST"),  # summer: UTC+2
])
def test_every_channel_shows_the_time_in_the_recipients_zone(tenant, deliver, due, shown):
    _berliner(tenant)
    process_events([make_event("task.assigned", due_date=due)])  # in-app rendered here, at intake
    deliver()  # e-mail and push rendered by the worker (delivery/compose.py), from the stored contact

    assert shown in mail.outbox[0].body
    [push] = sent_push()
    assert shown in push["body"]
    assert shown in InAppMessage.objects.get(user_id="u-1").body
    assert "UTC" not in mail.outbox[0].body


def test_without_a_zone_of_their_own_the_tenants_default_then_utc(tenant, deliver):
    process_events([make_event("user.login.succeeded", login_at="2026-12-07T09:30:00Z")])
    deliver()
    tenant.settings = {**tenant.settings, "default_timezone": "America/New_York"}
    tenant.save()
    process_events([make_event("user.login.succeeded", login_at="2026-12-07T09:30:00Z", ip_address="198.51.100.1")])
    deliver()

    assert [line for m in mail.outbox for line in m.body.splitlines() if line.startswith("When:")] == [
        "When: December 7, 2026, 9:30 AM UTC", "When: December 7, 2026, 4:30 AM EST"]


def test_a_tenants_template_filters_use_the_recipients_zone(tenant, deliver):
    _berliner(tenant)
    NotificationTemplate.objects.create(
        tenant=tenant, name="task_assigned_email", channel="email",
        content={"subject": "Task due {{ due_date | date }}",
                 "body": "Due {{ due_date | datetime }}; "
                         "sent {{ event_timestamp | datetime('de_DE') }} ({{ timezone }})"})
    process_events([make_event("task.assigned", due_date="2026-12-07T23:30:00Z")])  # 00:30 on Dec 8 in Berlin
    deliver()

    [message] = mail.outbox
    assert message.subject == "Task due December 8, 2026"
    assert "Due December 8, 2026, 12:30 AM CET" in message.body
    assert "sent 23. November 2026, 13:00 CET (Europe/Berlin)" in message.body  # German: its own clock


def test_build_context_names_the_zone_and_a_payload_cannot_replace_it(tenant):
    handler = event_registry.get_handler("user.registration.completed")
    payload = handler.load_payload(handler.validate_payload(
        "user.registration.completed", {**make_event("user.registration.completed")["payload"],
                                        "timezone": "Asia/Tokyo"}))
    context = build_context(handler, event_type="user.registration.completed", payload=payload, tenant=tenant,
                            contact={"timezone": "Europe/Berlin"})
    assert context["timezone"] == "Europe/Berlin"  # the contact's (intake merges the payload's into it)
    bare = build_context(handler, event_type="user.registration.completed", payload=payload, tenant=tenant,
                         contact={"timezone": "Not/AZone"})
    assert bare["timezone"] == "UTC"
