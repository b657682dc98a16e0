from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import make_event
from notifications.testing.fake_providers import Reply
from tests.fixtures import add_provider

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("retry_after", ["inf", "1e12", "nan", "Wed, 21 Oct 9999 07:28:00 GMT", "-5"])
def test_absurd_retry_after_cannot_break_a_batch(tenant, fake, retry_after):
    add_provider(tenant.id, "sms", "webhook", {"url": f"{fake.url}/webhook"})
    fake.script("webhook", [Reply(429, headers={"Retry-After": retry_after})])
    event_registry.process_event(make_event("user.password.reset.requested", email=None))
    event_registry.process_event(make_event("user.password.reset.requested", email=None, user_id="u-2"))

    deliver_until_idle()

    statuses = sorted(NotificationRecord.objects.filter(channel="sms").values_list("status", flat=True))
    assert statuses == ["retrying", "sent"]
    retrying = NotificationRecord.objects.get(channel="sms", status="retrying")
    assert retrying.next_attempt_at <= timezone.now() + timedelta(hours=25)


def test_outside_development_unconfigured_sms_waits_instead_of_going_to_a_log(tenant, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "DEV_PROVIDERS": False}
    from notifications.delivery.worker import reset_default_engine

    reset_default_engine()
    event_registry.process_event(make_event("user.password.reset.requested", email=None))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="sms")
    assert (record.status, record.reason) == (Status.RETRYING, "no_provider")
    reset_default_engine()
