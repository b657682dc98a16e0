from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.channels.models import InAppMessage
from notifications.delivery.secrets import EXPIRED_BODY, expire_inbox_secrets
from notifications.events.registry import event_registry
from notifications.testing import make_event

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
