from __future__ import annotations

import pytest

from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import make_event
from notifications.testing.fake_providers import Reply
from tests.fixtures import add_device, add_provider

pytestmark = pytest.mark.django_db


def test_web_push_403_deactivates_the_device(tenant, fake, web_subscription, vapid_key):
    add_provider(tenant.id, "push", "webpush", {}, {"vapid_private_key": vapid_key})
    device = add_device(tenant.id, "u-3", "webpush", web_subscription["endpoint"], web_subscription)
    fake.script("webpush", [Reply(403)])
    event_registry.process_event(make_event("content.liked", user_id="u-3"))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="push")
    assert (record.status, record.reason) == (Status.FAILED, "vapid_mismatch")
    device.refresh_from_db()
    assert not device.active
