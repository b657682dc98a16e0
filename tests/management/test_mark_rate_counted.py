"""manage.py mark_rate_counted: after an upgrade's rollout, the records processes of the old code wrote
unmarked are marked for the rules tenants have; nothing else is."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from notifications.delivery.models import NotificationRecord
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_the_records_written_unmarked_meanwhile_are_marked_for_the_rules_tenants_have(tenant):
    tenant.settings = {"rate_limits": {"content.liked": {"push": {"limit": 5, "per_seconds": 3600}}}}
    tenant.save()
    event_registry.process_event(make_event("content.liked", content_id="P-1"))
    event_registry.process_event(make_event("task.assigned", task_id="T-1"))
    liked = NotificationRecord.objects.filter(event_type="content.liked").exclude(status="skipped")
    counted = liked.count()
    assert counted and liked.filter(rate_counted=True).count() == counted
    liked.update(rate_counted=None)  # as the code before 0022 wrote them

    out = StringIO()
    call_command("mark_rate_counted", stdout=out)

    assert out.getvalue().strip() == f"marked {counted:,} records counted by the tenants' rate-limit rules"
    assert liked.filter(rate_counted=True).count() == counted
    assert not NotificationRecord.objects.filter(event_type="task.assigned", rate_counted=True).exists()
    out = StringIO()
    call_command("mark_rate_counted", stdout=out)  # again: nothing left to mark
    assert out.getvalue().strip() == "marked 0 records counted by the tenants' rate-limit rules"
