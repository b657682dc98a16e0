from __future__ import annotations

import pytest

from notifications.models import NotificationRecord
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_in_app_records_are_not_requeued_into_limbo(api_a):
    from notifications.events.base_handler import BaseEventHandler  # noqa: F401

    result = api_a.post("/events", make_event("task.assigned")).json()["results"][0]
    in_app = next(r for r in result["records"] if r["channel"] == "in_app")
    NotificationRecord.objects.filter(pk=in_app["id"]).update(status="failed")

    assert api_a.post(f"/records/{in_app['id']}/retry").status_code == 409
    assert NotificationRecord.objects.get(pk=in_app["id"]).status == "failed"
