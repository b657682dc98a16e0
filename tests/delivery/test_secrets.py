from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.channels.base import Failed, FailureKind
from notifications.channels.models import InAppMessage
from notifications.delivery.secrets import EXPIRED_BODY, expire_inbox_secrets
from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Channel
from notifications.events.registry import event_registry
from notifications.models import Event, NotificationRecord
from notifications.testing import InMemorySender, make_event, use_sender

pytestmark = pytest.mark.django_db


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


def test_secrets_are_purged_once_every_record_is_final(tenant):
    event_registry.process_event(make_event("user.password.reset.requested"))
    assert "$enc" in Event.objects.get().payload["reset_token"]

    deliver_until_idle()

    assert Event.objects.get().payload["reset_token"] == {"$purged": True}
    assert set(NotificationRecord.objects.values_list("status", flat=True)) == {"sent"}


def test_secrets_stay_while_a_record_is_pending(tenant):
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.TRANSIENT, "busy"))
    event_registry.process_event(make_event("user.password.reset.requested"))

    with use_sender(failing):
        deliver_until_idle()

    assert "$enc" in Event.objects.get().payload["reset_token"]  # the SMS will be retried and needs it
