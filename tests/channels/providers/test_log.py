from __future__ import annotations

import pytest

from notifications.channels.models import Device
from notifications.delivery.models import NotificationRecord
from notifications.enums import Channel
from notifications.events.registry import event_registry
from notifications.testing import make_event
from tests.helpers import sent_push, sent_sms

pytestmark = pytest.mark.django_db


def test_push_and_sms_go_to_the_log_provider(tenant, deliver):
    event_registry.process_event(make_event("user.login.failed"))
    deliver()

    [sms], [push] = sent_sms(), sent_push()
    device = Device.objects.get(user_id="u-1")
    assert sms["to"] == "+14155550123"
    assert push["to"] == f"device:{device.pk}" and push["platform"] == "fcm"
    assert push["title"] == "Failed sign-in attempt"
    providers = set(NotificationRecord.objects.exclude(channel=Channel.EMAIL).values_list("provider", flat=True))
    assert providers == {"log"}
