from __future__ import annotations

import json

import pytest

from notifications.events.models import Event
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_a_string_event_cannot_smuggle_another_tenant(api_a):
    smuggled = json.dumps(make_event("task.assigned", "globex"))
    assert api_a.post("/events", json.dumps(smuggled)).status_code == 422  # a JSON string literal
    assert api_a.post("/events", [smuggled]).status_code == 422
    assert not Event.objects.filter(tenant_id="globex").exists()


def test_post_one_event_and_a_batch(api_a):
    one = api_a.post("/events", make_event("task.assigned"))
    batch = api_a.post("/events", [make_event("content.liked"), {"event_type": "nope"}, make_event("content.liked")])

    assert one.status_code == 200
    [result] = one.json()["results"]
    assert result["outcome"] == "processed" and {r["channel"] for r in result["records"]} == {"email", "in_app", "push"}
    outcomes = [(r["outcome"], r["reason"]) for r in batch.json()["results"]]
    assert outcomes == [("processed", None), ("rejected", "missing_field"), ("duplicate", None)]


def test_events_default_to_the_keys_tenant_and_cannot_name_another(api_a):
    event = make_event("task.assigned")
    del event["tenant_id"]
    assert api_a.post("/events", event).json()["results"][0]["tenant_id"] == "acme"
    assert api_a.post("/events", make_event("task.assigned", "globex")).status_code == 403


@pytest.mark.parametrize(("text", "reason"), [
    ('{"event_type": "task.assigned", "event_type": "content.liked"}', "repeated key 'event_type'"),
    ('[{"payload": {"amount": 1, "amount": 100000}}]', "repeated key 'amount'"),
    ('{"payload": {"amount": 1e999}}', "number too large"),
])
def test_events_with_repeated_keys_or_unreadable_numbers_are_refused(api_a, text, reason):
    """The API reads its body as the consumer reads a message: nothing is taken with whichever value won."""
    response = api_a.post("/events", text)
    assert response.status_code == 422
    assert reason in response.json()["detail"]
    assert api_a.get("/records").json()["items"] == []


def test_an_audience_event_through_the_api_names_its_fan_out(api_a):
    from notifications.audiences.runner import run_until_idle
    from notifications.delivery.models import NotificationRecord
    from notifications.tenants.models import Contact

    Contact.objects.create(tenant_id="acme", user_id="u-7", email="u7@example.com")
    event = make_event("task.assigned", user_id=None, email=None)
    response = api_a.post("/events", {**event, "recipients": ["u-7", "u-8"]})
    assert response.status_code == 200, response.content
    result = response.json()["results"][0]
    assert result["outcome"] == "processed" and result["fanout_id"] and result["records"] == []
    run_until_idle()
    users = set(NotificationRecord.objects.filter(event_id=result["event_id"]).values_list("user_id", flat=True))
    assert users == {"u-7", "u-8"}
    status = api_a.get(f"/fanouts/{result['fanout_id']}").json()
    assert status["written"] == 2 and status["skipped"]["unknown_recipient"] >= 1
