"""The sandbox: unsafe template code fails the record with render_error and sends nothing."""

from __future__ import annotations

import pytest

from notifications.channels.models import InAppMessage
from notifications.events.registry import event_registry
from notifications.models import NotificationTemplate
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_sandbox_blocks_unsafe_template_code(tenant, deliver):
    NotificationTemplate.objects.create(
        tenant_id=tenant.id,
        name="content_liked_in_app",
        channel="in_app",
        content={"title": "{{ liked_by.__class__.__mro__ }}", "body": "x"},
        placeholders=["liked_by"],
    )
    result = event_registry.process_event(make_event("content.liked"))

    [in_app] = [r for r in result.records if r.channel == "in_app"]
    assert in_app.status == "failed" and in_app.reason == "render_error"
    assert InAppMessage.objects.count() == 0
