from __future__ import annotations

import pytest

from notifications.channels.models import Device
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_rate_limit_counts_a_notification_once_however_many_devices(tenant):
    Device.objects.create(tenant=tenant, user_id="u-1", platform="fcm", token="second-phone")
    tenant.settings = {"rate_limits": {"content.liked": {"push": {"limit": 2, "per_seconds": 3600}}}}
    tenant.save()

    results = [event_registry.process_event(make_event("content.liked", content_id=f"P-{n}")) for n in range(3)]

    per_event = [[r.status for r in result.records if r.channel == "push"] for result in results]
    assert per_event == [["pending", "pending"], ["pending", "pending"], ["skipped", "skipped"]]


def test_security_alerts_are_never_rate_limited(tenant):
    tenant.settings = {"rate_limits": {"user.login.failed": {"*": {"limit": 1, "per_seconds": 3600}}}}
    tenant.save()

    results = [event_registry.process_event(make_event("user.login.failed", attempt_count=n)) for n in range(1, 4)]

    assert all(r.reason != "rate_limited" for result in results for r in result.records)
