"""The delivery seam at this stage: worker, outcomes, retries with backoff, the --once command."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from notifications.channels.base import Failed, FailureKind
from notifications.delivery.worker import backoff_seconds, deliver_due
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


def test_backoff_grows_and_honours_retry_after(settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "RETRY_BASE_SECONDS": 10}
    first, third = backoff_seconds(1), backoff_seconds(3)
    assert 8 <= first <= 12 and 32 <= third <= 48
    assert backoff_seconds(1, retry_after=300) == 300


def test_expired_lease_is_reclaimed(tenant):
    event_registry.process_event(make_event("user.login.succeeded"))
    NotificationRecord.objects.update(status=Status.SENDING, next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert deliver_due().claimed == 0

    NotificationRecord.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliver_due().sent == 1


def test_run_delivery_worker_once_delivers_everything_due(tenant, capsys):
    for n in range(3):
        event_registry.process_event(make_event("user.login.failed", user_id=f"user-{n}"))

    call_command("run_delivery_worker", "--once")

    assert "sent=6" in capsys.readouterr().out  # e-mail and SMS; these users have no push device
    assert NotificationRecord.objects.filter(channel="push", reason="no_address").count() == 3
    assert set(NotificationRecord.objects.exclude(channel="push").values_list("status", flat=True)) == {Status.SENT}


def test_email_file_backend_writes_into_the_mail_folder(tenant, deliver, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    event_registry.process_event(make_event("user.login.succeeded"))

    deliver()

    [message] = list(Path(settings.EMAIL_FILE_PATH).iterdir())
    text = message.read_text()
    assert "To: john@example.com" in text and "Berlin, DE" in text


def test_unregistered_handler_at_delivery_fails_the_record_not_the_batch(tenant, deliver):
    from notifications.events.base_handler import BaseEventHandler

    class Temporary(BaseEventHandler):
        event_types = ("temp.event",)

        def _get_email_content(self, event_type, context):
            return {"subject": "s", "body": "b"}

    handler = event_registry.register(Temporary())
    event_registry.process_event({**make_event("user.login.succeeded"), "event_type": "temp.event"})
    event_registry.unregister_handler(handler)
    event_registry.process_event(make_event("user.login.succeeded"))

    deliver()

    statuses = dict(NotificationRecord.objects.values_list("event_type", "status"))
    assert statuses == {"temp.event": Status.FAILED, "user.login.succeeded": Status.SENT}


def test_claims_take_the_oldest_due_first_and_never_the_same_record_twice(tenant):
    from notifications.delivery.worker import claim_due

    for n in range(6):
        event_registry.process_event(make_event("user.login.succeeded", user_id=f"claim-{n}"))
    records = list(NotificationRecord.objects.filter(channel="email").order_by("pk"))
    now = timezone.now()
    for age, record in enumerate(records):  # the last record written is the oldest due
        NotificationRecord.objects.filter(pk=record.pk).update(next_attempt_at=now - timedelta(minutes=age + 1))
    NotificationRecord.objects.exclude(channel="email").update(status=Status.SKIPPED)

    first = claim_due(2, now)
    second = claim_due(10, now)
    assert sorted(first) == sorted(r.pk for r in records[-2:])
    assert sorted(second) == sorted(r.pk for r in records[:-2])
    assert claim_due(10, now) == []
    claimed = NotificationRecord.objects.filter(pk__in=first + second)
    assert {r.status for r in claimed} == {Status.SENDING} and all(r.next_attempt_at > now for r in claimed)
    assert len({r.claim_token for r in claimed}) == 2
