"""db.deletes: one DELETE, no cascade: a record's inbox message stays (the inbox keeps its own time)."""

from __future__ import annotations

import pytest

from notifications.channels.models import InAppMessage
from notifications.db.deletes import delete_rows
from notifications.delivery.models import NotificationRecord
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_only_the_rows_named_go_and_nothing_cascades(tenant):
    event_registry.process_events([make_event("task.assigned", user_id=f"u{n}") for n in range(2)])
    in_app = list(NotificationRecord.objects.filter(channel="in_app").order_by("pk").values_list("pk", flat=True))
    assert len(in_app) == 2 and InAppMessage.objects.count() == 2

    assert delete_rows(NotificationRecord, "pk", in_app[:1]) == 1

    assert list(NotificationRecord.objects.filter(channel="in_app").values_list("pk", flat=True)) == in_app[1:]
    assert InAppMessage.objects.count() == 2  # Django's cascade would have taken the first one along
