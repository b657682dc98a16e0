"""The contacts endpoint's time zone and quiet hours: accepted, returned, refused with the bad part named, and
scoped to the caller's tenant."""

from __future__ import annotations

import pytest

from notifications.tenants.models import Contact
from tests.helpers import error_detail

pytestmark = pytest.mark.django_db


def test_a_contact_takes_and_returns_its_zone_and_quiet_hours(api_a):
    window = {"start": "22:00", "end": "07:00", "channels": ["push", "sms"]}
    answer = api_a.put("/contacts/u-9", {"email": "nine@example.com", "timezone": "europe/berlin",
                                         "quiet_hours": window})
    assert answer.status_code == 200, answer.content
    assert (answer.json()["timezone"], answer.json()["quiet_hours"]) == ("Europe/Berlin", window)
    shown = api_a.get("/contacts/u-9").json()
    assert (shown["timezone"], shown["quiet_hours"]) == ("Europe/Berlin", window)
    contact = Contact.objects.get(tenant_id="acme", user_id="u-9")
    assert (contact.timezone, contact.quiet_hours) == ("Europe/Berlin", window)

    # A PUT replaces: without them, the tenant's default zone and the tenant's quiet hours apply again.
    assert api_a.put("/contacts/u-9", {"email": "nine@example.com"}).json()["timezone"] == ""
    assert api_a.put("/contacts/u-9", {"quiet_hours": {"off": True}}).json()["quiet_hours"] == {"off": True}


@pytest.mark.parametrize(("body", "words"), [
    ({"timezone": "Mars/Olympus"}, "timezone: Value error, unknown time zone 'Mars/Olympus'"),
    ({"timezone": 7}, "timezone"),
    ({"quiet_hours": {"start": "10pm", "end": "07:00"}}, "quiet_hours.start: must be HH:MM"),
    ({"quiet_hours": {"start": "22:00", "end": "07:00", "channels": ["fax"]}},
     "quiet_hours.channels: unknown channel(s) fax"),
    ({"quiet_hours": "22:00-07:00"}, "quiet_hours"),
    ({"quiet_hours": {"off": True, "start": "22:00", "end": "07:00"}}, "quiet_hours.off"),
])
def test_bad_zones_and_windows_answer_422_naming_them(api_a, body, words):
    answer = api_a.put("/contacts/u-9", {"email": "nine@example.com", **body})
    assert answer.status_code == 422
    assert words in error_detail(answer)
    assert not Contact.objects.filter(user_id="u-9").exists()


def test_a_tenant_neither_sees_nor_changes_another_tenants_contact(api_a, api_b):
    api_a.put("/contacts/u-9", {"timezone": "Europe/Berlin", "quiet_hours": {"start": "22:00", "end": "07:00"}})

    assert api_b.get("/contacts/u-9").status_code == 404
    assert api_b.put("/contacts/u-9", {"timezone": "Asia/Tokyo", "quiet_hours": {"off": True}}).status_code == 200
    mine = api_a.get("/contacts/u-9").json()
    assert (mine["timezone"], mine["quiet_hours"]) == ("Europe/Berlin", {"start": "22:00", "end": "07:00"})
    assert api_b.get("/contacts/u-9").json()["timezone"] == "Asia/Tokyo"
    assert Contact.objects.filter(user_id="u-9").count() == 2


def test_unauthenticated_calls_are_refused(db):
    from tests.fixtures import ApiClient

    anonymous = ApiClient(None)
    assert anonymous.put("/contacts/u-9", {"timezone": "Europe/Berlin"}).status_code == 401
    assert anonymous.get("/contacts/u-9").status_code == 401


def test_a_value_stored_around_the_checks_is_still_answered(api_a):
    Contact.objects.create(tenant_id="acme", user_id="u-7", timezone="Not/AZone", quiet_hours={"start": "x"})
    answer = api_a.get("/contacts/u-7")
    assert answer.status_code == 200
    assert (answer.json()["timezone"], answer.json()["quiet_hours"]) == ("Not/AZone", {"start": "x"})


@pytest.mark.parametrize("stored", [[], "22:00", [1, 2], 7])
def test_a_contact_with_quiet_hours_stored_as_anything_but_an_object_is_answered(api_a, stored):
    from notifications.tenants.models import Contact

    Contact.objects.create(tenant_id="acme", user_id="u-77", quiet_hours=stored)
    answer = api_a.get("/contacts/u-77")
    assert answer.status_code == 200, answer.content
    assert answer.json()["quiet_hours"] == {}
