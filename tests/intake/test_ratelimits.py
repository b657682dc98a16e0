from __future__ import annotations

import pytest

from notifications.channels.models import Device
from notifications.enums import SkipReason
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


def test_per_user_rate_limit_skips_the_excess_but_never_security_codes(tenant):
    tenant.settings = {"rate_limits": {
        "content.liked": {"push": {"limit": 2, "per_seconds": 3600}},
        "auth.2fa.code.requested": {"*": {"limit": 1, "per_seconds": 3600}},
    }}
    tenant.save()

    likes = [event_registry.process_event(make_event("content.liked", content_id=f"P-{n}")) for n in range(4)]
    codes = [event_registry.process_event(make_event("auth.2fa.code.requested", code=f"00000{n}")) for n in range(3)]

    push = [next(r for r in result.records if r.channel == "push") for result in likes]
    assert [(r.status, r.reason) for r in push] == [
        ("pending", ""), ("pending", ""), ("skipped", SkipReason.RATE_LIMITED), ("skipped", SkipReason.RATE_LIMITED)]
    assert all(r.status == "sent" for result in likes for r in result.records if r.channel == "in_app")
    assert [r.status for result in codes for r in result.records] == ["pending"] * 3


def test_rate_limit_applies_within_one_batch(tenant):
    from notifications.intake.service import process_events

    tenant.settings = {"rate_limits": {"content.liked": {"*": {"limit": 1, "per_seconds": 60}}}}
    tenant.save()

    results = process_events([make_event("content.liked", content_id=f"P-{n}") for n in range(3)])

    statuses = [r.status for result in results for r in result.records if r.channel == "in_app"]
    assert statuses == ["sent", "skipped", "skipped"]


@pytest.mark.postgres
def test_the_users_recent_records_are_read_through_their_own_index(tenant):
    """Not every record of the tenant in the window (record_tenant_created_idx): a day's rule read a day of the
    tenant's records for every batch (migration 0021)."""
    from notifications.intake.ratelimits import RateLimiter
    from tests.helpers import plan_of

    tenant.settings = {"rate_limits": {"content.liked": {"*": {"limit": 3, "per_seconds": 86400}}}}
    tenant.save()

    plan = plan_of(lambda: RateLimiter.load({tenant.id: tenant}, [(tenant.id, "u-1", "content.liked")]))

    assert "record_tenant_user_idx" in plan and "record_tenant_created_idx" not in plan, plan
