from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.db.models import Count

from notifications.enums import SkipReason, Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord, Preference
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def _by_channel(result):
    return {r.channel: (r.status, r.reason) for r in result.records}


def test_tenant_disables_an_event_type(tenant):
    tenant.settings = {"disabled_events": ["content.liked"]}
    tenant.save()

    result = event_registry.process_event(make_event("content.liked"))

    assert _by_channel(result) == {
        "in_app": (Status.SKIPPED, SkipReason.TENANT_DISABLED_EVENT),
        "push": (Status.SKIPPED, SkipReason.TENANT_DISABLED_EVENT),
    }


def test_tenant_disables_sms_for_one_event(tenant, deliver):
    tenant.settings = {"disabled_channels": {"invoice.payment.failed": ["sms"]}}
    tenant.save()

    disabled = event_registry.process_event(make_event("invoice.payment.failed"))
    other = event_registry.process_event(make_event("user.login.failed"))

    assert _by_channel(disabled)["sms"] == (Status.SKIPPED, SkipReason.TENANT_DISABLED_CHANNEL)
    assert _by_channel(disabled)["email"] == (Status.PENDING, "")
    assert _by_channel(other)["sms"] == (Status.PENDING, "")


def test_user_opts_out_per_event_and_channel(tenant):
    Preference.objects.create(tenant=tenant, user_id="u-1", event_type="task.assigned", channel="email")

    result = event_registry.process_event(make_event("task.assigned"))
    other_user = event_registry.process_event(make_event("task.assigned", user_id="u-2"))

    assert _by_channel(result) == {
        "email": (Status.SKIPPED, SkipReason.OPTED_OUT),
        "in_app": (Status.SENT, ""),
        "push": (Status.PENDING, ""),  # u-1's device
    }
    assert _by_channel(other_user)["email"] == (Status.PENDING, "")


def test_most_specific_preference_wins(tenant):
    Preference.objects.create(tenant=tenant, user_id="u-1", event_type="*", channel="*", enabled=False)
    Preference.objects.create(tenant=tenant, user_id="u-1", event_type="task.assigned", channel="push", enabled=True)

    result = event_registry.process_event(make_event("task.assigned"))

    assert {c: s for c, (s, _) in _by_channel(result).items()} == {
        "email": Status.SKIPPED, "in_app": Status.SKIPPED, "push": Status.PENDING,
    }


@pytest.mark.parametrize(("event_type", "channel"), [
    ("user.password.reset.requested", "email"),
    ("user.password.reset.requested", "sms"),
    ("auth.2fa.code.requested", "sms"),
])
def test_password_reset_and_2fa_codes_cannot_be_opted_out(tenant, event_type, channel):
    Preference.objects.create(tenant=tenant, user_id="u-1", event_type="*", channel="*", enabled=False)

    result = event_registry.process_event(make_event(event_type))

    assert _by_channel(result)[channel] == (Status.PENDING, "")


def test_skips_show_in_the_guides_analytics_query(tenant):
    tenant.settings = {"disabled_channels": {"invoice.payment.failed": ["sms"]}}
    tenant.save()
    event_registry.process_event(make_event("invoice.payment.failed"))
    tenant_id = tenant.id

    notifications = NotificationRecord.objects.filter(
        tenant_id=tenant_id,
        created_at__gte=datetime.now() - timedelta(days=1)
    ).values('channel', 'status').annotate(count=Count('id'))

    rows = {(row["channel"], row["status"]): row["count"] for row in notifications}
    assert rows == {("email", "pending"): 1, ("sms", "skipped"): 1, ("push", "pending"): 1}
    assert NotificationRecord.objects.get(channel="push").recipient.startswith("device:")
