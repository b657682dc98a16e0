"""Poison events and hostile templates: rejected with a reason and kept, never crashing or blocking others."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.channels.models import InAppMessage
from notifications.delivery.secrets import EXPIRED_BODY, expire_inbox_secrets
from notifications.enums import Outcome, RejectionReason
from notifications.errors import HandlerAlreadyRegistered
from notifications.events.base_handler import BaseEventHandler
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import EventRegistry, event_registry
from notifications.intake.service import process_events
from notifications.models import NotificationRecord, NotificationTemplate
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

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


def test_a_handler_bug_becomes_a_processing_error_not_a_crash(tenant):
    class Broken(BaseEventHandler):
        event_types = ("broken.event",)

        def get_channels(self, event_type, payload):
            raise RuntimeError("bug in a custom handler")

    handler = event_registry.register(Broken())
    try:
        results = process_events([{**GOOD, "event_type": "broken.event"}, GOOD])
    finally:
        event_registry.unregister_handler(handler)

    assert results[0].reason == RejectionReason.PROCESSING_ERROR
    assert "RuntimeError" in results[0].detail
    assert results[1].outcome == Outcome.PROCESSED
    assert RejectedEvent.objects.get().reason == "processing_error"
    assert Event.objects.count() == 1


def test_guides_password_reset_with_naive_datetimes_is_delivered(tenant, deliver):
    now = datetime.utcnow()
    event_registry.process_event({
        'event_type': 'user.password.reset.requested', 'tenant_id': tenant.id, 'timestamp': now.isoformat(),
        'payload': {'user_id': '7', 'email': 'ada@example.com', 'phone': '+14155550100', 'reset_token': 'tok-1',
                    'expires_at': (now + timedelta(hours=2)).isoformat(), 'ip_address': '203.0.113.1',
                    'reset_link': 'https://app.example.com/reset-password?token=tok-1'}})

    deliver()

    assert set(NotificationRecord.objects.values_list("status", flat=True)) == {"sent"}
    assert "(in 2 hours)" in mail.outbox[0].body


def test_can_handle_only_handlers_may_not_shadow_or_duplicate():
    registry = EventRegistry()
    from notifications.events.handlers import TaskAssignedHandler

    registry.register(TaskAssignedHandler())

    class Tasks(BaseEventHandler):
        def can_handle(self, event_type):
            return event_type.startswith("task.")

    with pytest.raises(HandlerAlreadyRegistered, match="task.assigned"):
        registry.register(Tasks())

    class Other(BaseEventHandler):
        def can_handle(self, event_type):
            return event_type == "other.event"

    registry.register(Other())
    with pytest.raises(HandlerAlreadyRegistered):
        registry.register(Other())
    registry.register(Tasks(), replace=True)
    assert isinstance(registry.get_handler("task.assigned"), Tasks)


@pytest.mark.parametrize("source", ["{{ 'x' * 1000000000 }}", "{{ 10 ** 100000 }}", "{{ 1 // 0 }}"])
def test_hostile_tenant_template_fails_only_its_record(tenant, source):
    template = NotificationTemplate.objects.create(
        tenant_id=tenant.id, name="content_liked_in_app", channel="in_app",
        content={"title": "fine", "body": "x"}, placeholders=[],
    )
    # Saving refuses a template over its render budget; one stored before that (or behind save()) still fails
    # only its own record.
    NotificationTemplate.objects.filter(pk=template.pk).update(content={"title": source, "body": "x"})

    result = event_registry.process_event(make_event("content.liked"))

    [in_app] = [r for r in result.records if r.channel == "in_app"]
    assert (in_app.status, in_app.reason) == ("failed", "render_error")


def test_template_updated_behind_save_is_not_served_stale(tenant, deliver):
    template = NotificationTemplate.objects.create(
        tenant_id=tenant.id, name="user_login_succeeded_email", channel="email",
        content={"subject": "First {{ company_name }}", "body": "b"},
    )
    event_registry.process_event(make_event("user.login.succeeded"))
    deliver()
    NotificationTemplate.objects.filter(pk=template.pk).update(content={"subject": "Second", "body": "b"})
    event_registry.process_event(make_event("user.login.succeeded", user_id="u-9"))
    deliver()

    assert [m.subject for m in mail.outbox] == ["First Acme", "Second"]


def test_in_app_2fa_code_expires_from_the_inbox(tenant):
    event_registry.process_event(make_event("auth.2fa.code.requested", method="in_app", expires_in_minutes=5))
    message = InAppMessage.objects.get()
    assert "839201" in message.body
    assert message.expires_at is not None

    assert expire_inbox_secrets(timezone.now() + timedelta(minutes=4)) == 0
    assert expire_inbox_secrets(timezone.now() + timedelta(minutes=6)) == 1
    message.refresh_from_db()
    assert message.body == EXPIRED_BODY and "839201" not in message.title


def test_ordinary_in_app_messages_do_not_expire(tenant):
    event_registry.process_event(make_event("task.assigned"))
    assert InAppMessage.objects.get().expires_at is None
