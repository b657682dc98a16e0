"""notifications/tenants/models.py: a contact's time zone and quiet hours checked by Contact.clean() (the admin
saves through it), the zone stored in its own spelling, and as_dict() carrying the zone to the worker."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifications.tenants.models import Contact

pytestmark = pytest.mark.django_db


def test_clean_names_a_bad_zone_and_a_bad_window(tenant):
    contact = Contact(tenant=tenant, user_id="u-2", timezone="Mars/Olympus",
                      quiet_hours={"start": "22:00", "end": "25:00"})
    with pytest.raises(ValidationError) as raised:
        contact.full_clean()
    errors = raised.value.message_dict
    assert "unknown time zone 'Mars/Olympus'" in errors["timezone"][0]
    assert errors["quiet_hours"] == ["quiet_hours.end: must be HH:MM (00:00 to 23:59), e.g. 22:00"]


def test_clean_keeps_a_zone_in_its_own_spelling(tenant):
    contact = Contact(tenant=tenant, user_id="u-2", timezone="asia/tokyo", quiet_hours={"off": True})
    contact.full_clean()
    assert contact.timezone == "Asia/Tokyo"
    assert contact.as_dict()["timezone"] == "Asia/Tokyo"


def test_admin_form_refuses_a_bad_zone_and_saves_a_good_one(admin_client, tenant):
    contact = Contact.objects.create(tenant=tenant, user_id="u-2", email="two@example.com")
    url = f"/admin/notifications/contact/{contact.pk}/change/"
    form = {"tenant": tenant.pk, "user_id": "u-2", "email": "two@example.com", "phone": "", "first_name": "",
            "last_name": "", "locale": ""}
    answer = admin_client.post(url, {**form, "timezone": "Europe/Berln", "quiet_hours": "{}"})
    assert answer.status_code == 200 and b"unknown time zone" in answer.content
    assert b"IANA time zone, e.g. Europe/Berlin" in answer.content  # the field's help
    answer = admin_client.post(url, {**form, "timezone": "europe/berlin",
                                     "quiet_hours": '{"start": "23:00", "end": "06:00"}'})
    assert answer.status_code == 302
    contact.refresh_from_db()
    assert (contact.timezone, contact.quiet_hours) == ("Europe/Berlin", {"start": "23:00", "end": "06:00"})
