"""The contacts endpoints: contacts, devices and preferences, and their effect on the next event."""

from __future__ import annotations

import pytest

from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_contacts_devices_and_preferences(api_a):
    assert api_a.put("/contacts/u-9", {"email": "nine@example.com", "phone": "+4915112345678"}).status_code == 200
    assert api_a.put("/contacts/u-9", {"email": "not an address"}).status_code == 422
    assert api_a.get("/contacts/u-9").json()["email"] == "nine@example.com"
    device = api_a.post("/contacts/u-9/devices", {"platform": "fcm", "token": "tok-9"})
    assert device.status_code == 201
    assert [d["platform"] for d in api_a.get("/contacts/u-9/devices").json()] == ["fcm"]
    prefs = api_a.put("/users/u-9/preferences", [{"event_type": "task.assigned", "channel": "email",
                                                  "enabled": False}])
    assert prefs.json() == [{"event_type": "task.assigned", "channel": "email", "enabled": False}]

    result = api_a.post("/events", make_event("task.assigned", user_id="u-9", email=None)).json()["results"][0]
    assert {r["channel"]: r["status"] for r in result["records"]} == {
        "email": "skipped", "in_app": "sent", "push": "pending"}

    assert api_a.delete(f"/devices/{device.json()['id']}").status_code == 204
    assert api_a.delete("/contacts/u-9").status_code == 204
    assert api_a.get("/contacts/u-9").status_code == 404


def test_erase_removes_the_persons_data_and_answers_what_was_done(api_a):
    from notifications.events.models import Event
    from notifications.events.registry import event_registry
    from notifications.history.models import Erasure
    from notifications.testing import make_event

    event_registry.process_event(make_event("user.registration.completed", user_id="p-17",
                                            email="p17@example.org"))
    response = api_a.delete("/contacts/p-17?erase=true")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["pseudonym"].startswith("erased-") and body["erased"]["events"] == 1
    assert body["erased"]["contacts"] == 1 and "p17@example.org" not in response.content.decode()
    assert not Event.objects.filter(user_id="p-17").exists()
    assert Erasure.objects.get().requested_by.startswith("api key ")
    assert api_a.delete("/contacts/p-17?erase=true").status_code == 404  # nothing of theirs is left


def test_erase_cannot_reach_another_tenants_person(api_a, api_b):
    from notifications.events.models import Event
    from notifications.events.registry import event_registry
    from notifications.testing import make_event

    event_registry.process_event(make_event("user.registration.completed", user_id="p-18"))
    assert api_b.delete("/contacts/p-18?erase=true").status_code == 404
    assert Event.objects.filter(tenant_id="acme", user_id="p-18").exists()
