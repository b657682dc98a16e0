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
