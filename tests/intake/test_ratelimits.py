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


def test_only_the_records_a_rule_counts_are_marked_and_read_back(tenant):
    from notifications.delivery.models import NotificationRecord

    tenant.settings = {"rate_limits": {"content.liked": {"push": {"limit": 1, "per_seconds": 3600}}}}
    tenant.save()

    event_registry.process_event(make_event("content.liked", content_id="P-1"))
    event_registry.process_event(make_event("task.assigned", task_id="T-1"))

    marks = set(NotificationRecord.objects.values_list("event_type", "channel", "rate_counted"))
    assert {(t, m) for t, _, m in marks} == {("content.liked", True), ("task.assigned", None)}, marks
    # The mark is what the next batch reads back: unmarked, the first like no longer counts.
    NotificationRecord.objects.update(rate_counted=None)
    second = event_registry.process_event(make_event("content.liked", content_id="P-2"))
    assert [r.status for r in second.records if r.channel == "push"] == ["pending"]


def test_the_upgrade_marks_the_last_month_of_what_tenants_rules_count(tenant):
    """Migration 0022 marks the records the rules of today count, back to the longest window: limits keep
    counting across the upgrade."""
    from datetime import timedelta
    from importlib import import_module

    from django.apps import apps
    from django.utils import timezone

    from notifications.delivery.models import NotificationRecord
    from notifications.tenants.models import Tenant

    other_tenant = Tenant.objects.create(id="other-co", name="Other")
    tenant.settings = {"rate_limits": {"content.liked": {"*": {"limit": 1, "per_seconds": 86400}}}}
    tenant.save()
    for owner in (tenant, other_tenant):
        for event_type in ("content.liked", "task.assigned"):
            event_registry.process_event(make_event(event_type, owner.id, content_id="P-1", task_id="T-1"))
    NotificationRecord.objects.update(rate_counted=None)
    old = NotificationRecord.objects.filter(tenant=tenant, event_type="content.liked").first()
    NotificationRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=32))

    import_module("notifications.migrations.0022_rate_counted_index").mark_counted(apps, None)

    marked = set(NotificationRecord.objects.filter(rate_counted=True).values_list("tenant_id", "event_type"))
    assert marked == {(tenant.id, "content.liked")}
    assert NotificationRecord.objects.filter(tenant=tenant, event_type="content.liked", rate_counted=None).count() \
        == 1  # older than 31 days


@pytest.mark.postgres
def test_the_users_recent_records_are_read_through_their_own_index(tenant):
    """Not every record of the tenant in the window (record_tenant_created_idx): a day's rule read a day of the
    tenant's records for every batch (migrations 0021-0022). The tenant has 5,000 counted records of 500 users,
    analyzed: the plan is the one a tenant with history gets (on empty tables either index costs the same)."""
    import uuid

    from django.db import connection

    from notifications.delivery.models import NotificationRecord
    from notifications.intake.ratelimits import RateLimiter
    from tests.helpers import plan_of

    NotificationRecord.objects.bulk_create(
        NotificationRecord(tenant=tenant, event_id=uuid.uuid4(), event_type="content.liked", user_id=f"u-{n % 500}",
                           channel="in_app", recipient=f"u-{n % 500}", status="sent", rate_counted=True)
        for n in range(5000))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE notifications_notificationrecord")
    tenant.settings = {"rate_limits": {"content.liked": {"*": {"limit": 3, "per_seconds": 86400}}}}
    tenant.save()

    plan = plan_of(lambda: RateLimiter.load({tenant.id: tenant}, [(tenant.id, "u-1", "content.liked")]))

    assert "record_rate_counted_idx" in plan and "record_tenant_created_idx" not in plan, plan
