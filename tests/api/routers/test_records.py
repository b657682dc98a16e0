from __future__ import annotations

import pytest

from notifications.delivery.worker import deliver_until_idle
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


def test_records_filters_retry_and_stats(api_a, settings):
    from notifications.channels.base import Failed, FailureKind
    from notifications.enums import Channel
    from notifications.testing import InMemorySender, use_sender

    api_a.post("/events", [make_event("user.login.failed"), make_event("task.assigned")])
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.PERMANENT, "invalid_number"))
    with use_sender(failing):
        deliver_until_idle()

    sms = api_a.get("/records?channel=sms").json()
    assert sms["count"] == 1 and sms["items"][0]["status"] == "failed"
    assert api_a.get("/records?event_type=task.assigned&channel=email").json()["count"] == 1
    record_id = sms["items"][0]["id"]
    assert api_a.post(f"/records/{record_id}/retry").json()["status"] == "pending"
    assert api_a.post(f"/records/{record_id}/retry").status_code == 409

    stats = api_a.get("/stats?hours=24").json()
    assert stats["sent"] >= 3 and stats["failed"] == 0 and stats["success_rate"] == 1.0
    assert stats["delivery_seconds_p50"] is not None and stats["delivery_seconds_p95"] >= stats["delivery_seconds_p50"]
    assert {"channel": "sms", "status": "pending", "count": 1} in stats["counts"]
