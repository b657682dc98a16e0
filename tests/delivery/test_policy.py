"""notifications/delivery/policy.py: the retry rule (attempts per channel, backoff, permanent vs transient)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from notifications.channels.base import Failed, FailureKind
from notifications.delivery.engine import deliver_until_idle
from notifications.delivery.policy import backoff_seconds
from notifications.enums import Channel, Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import InMemorySender, make_event, use_sender

pytestmark = pytest.mark.django_db


def test_transient_failure_is_retried_later_then_sent(tenant, deliver):
    event_registry.process_event(make_event("user.login.succeeded"))
    failing = InMemorySender(Channel.EMAIL, respond=lambda m: Failed(FailureKind.TRANSIENT, "smtp_421", "busy"))

    with use_sender(failing):
        deliver()
    record = NotificationRecord.objects.get()
    assert (record.status, record.reason, record.attempts) == (Status.RETRYING, "smtp_421", 1)
    assert record.next_attempt_at > timezone.now() + timedelta(seconds=20)

    deliver()  # not due yet
    assert mail.outbox == []
    NotificationRecord.objects.update(next_attempt_at=timezone.now())
    deliver()

    record.refresh_from_db()
    assert (record.status, record.attempts, record.provider) == (Status.SENT, 2, "django")
    assert record.sent_at is not None and record.provider_message_id
    assert len(mail.outbox) == 1


def test_permanent_failure_fails_at_once(tenant, deliver):
    event_registry.process_event(make_event("user.login.succeeded"))
    refusing = InMemorySender(Channel.EMAIL, respond=lambda m: Failed(FailureKind.PERMANENT, "recipient_refused"))

    with use_sender(refusing):
        deliver()

    record = NotificationRecord.objects.get()
    assert (record.status, record.reason, record.attempts) == (Status.FAILED, "recipient_refused", 1)


def test_attempts_are_bounded(tenant, deliver, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 3}
    event_registry.process_event(make_event("user.login.succeeded"))
    failing = InMemorySender(Channel.EMAIL, respond=lambda m: Failed(FailureKind.TRANSIENT, "timeout"))

    with use_sender(failing):
        for _ in range(5):
            NotificationRecord.objects.exclude(status=Status.FAILED).update(next_attempt_at=timezone.now())
            deliver()

    record = NotificationRecord.objects.get()
    assert (record.status, record.attempts, record.reason) == (Status.FAILED, 3, "timeout")


def test_max_attempts_per_channel(tenant, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 5, "MAX_ATTEMPTS_BY_CHANNEL": {"sms": 2}}
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.TRANSIENT, "busy"))
    event_registry.process_event(make_event("user.password.reset.requested", email=None))

    with use_sender(failing):
        for _ in range(3):
            NotificationRecord.objects.exclude(status=Status.FAILED).update(next_attempt_at=timezone.now())
            deliver_until_idle()

    record = NotificationRecord.objects.get(channel="sms")
    assert (record.status, record.attempts, record.reason) == (Status.FAILED, 2, "busy")


def test_backoff_grows_and_honours_retry_after(settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "RETRY_BASE_SECONDS": 10}
    first, third = backoff_seconds(1), backoff_seconds(3)
    assert 8 <= first <= 12 and 32 <= third <= 48
    assert backoff_seconds(1, retry_after=300) == 300
