from __future__ import annotations

import pytest

from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import make_event
from tests.fixtures import add_device, add_provider

pytestmark = pytest.mark.django_db


def test_fcm_token_endpoint_failure_is_transient(tenant, fake, service_account):
    service_account["token_uri"] = f"{fake.url}/nowhere"  # answers 404 HTML
    add_provider(tenant.id, "push", "fcm", {"base_url": fake.url}, service_account)
    add_device(tenant.id, "u-2", "fcm", "tok")
    event_registry.process_event(make_event("task.assigned", user_id="u-2"))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="push")
    assert (record.status, record.reason) == (Status.RETRYING, "auth_failed")
