from __future__ import annotations

import pytest

from notifications.delivery.worker import deliver_until_idle
from notifications.models import NotificationRecord
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_a_failed_in_app_record_retried_is_delivered_by_the_worker_once(api_a):
    """An in-app record whose template failed at intake: once the template is fixed, a retry makes it pending and
    a worker writes its inbox row (delivery/inbox.py), exactly one."""
    from notifications.channels.models import InAppMessage
    from notifications.models import NotificationTemplate

    broken = NotificationTemplate.objects.create(
        tenant_id="acme", name="task_assigned_in_app", channel="in_app", placeholders=[],
        content={"title": "t", "body": "{{ 1/0 }}", "action_url": ""})
    result = api_a.post("/events", make_event("task.assigned")).json()["results"][0]
    in_app = next(r for r in result["records"] if r["channel"] == "in_app")
    assert (in_app["status"], in_app["reason"]) == ("failed", "render_error")
    assert not InAppMessage.objects.exists()

    broken.delete()  # the tenant fixes its template: the default one applies again
    assert api_a.post(f"/records/{in_app['id']}/retry").json()["status"] == "pending"
    deliver_until_idle()
    deliver_until_idle()

    assert NotificationRecord.objects.get(pk=in_app["id"]).status == "sent"
    assert InAppMessage.objects.filter(record_id=in_app["id"]).count() == 1
    assert api_a.post(f"/records/{in_app['id']}/retry").status_code == 409  # sent: nothing to retry


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
