"""upsert_text_rows (PostgreSQL): rows go in as text, a stored row of the same key has only the listed
columns written over."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from tests.db.strings import HOSTILE

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement; SQLite takes the ORM")
def test_upsert_inserts_and_writes_over_only_the_listed_columns():
    from notifications.db import upsert_text_rows
    from notifications.tenants.models import Contact, Tenant

    Tenant.ensure({"acme"})
    Contact.objects.create(tenant_id="acme", user_id="kept", email="old@example.com", locale="de",
                           quiet_hours={"start": "22:00", "end": "07:00"})
    created = Contact.objects.get(user_id="kept").created_at
    later = timezone.now()
    rows = [("acme", "kept", "new@example.com", "", "", "")]
    rows += [("acme", f"u{i}", "", text, "", "") for i, text in enumerate(HOSTILE)]
    fields = ("tenant", "user_id", "email", "first_name", "last_name", "phone")
    upsert_text_rows(Contact, ("tenant", "user_id"), fields, rows,
                     update=("email", "first_name", "updated_at"),
                     constants={"quiet_hours": {}, "locale": "", "created_at": later, "updated_at": later})
    kept = Contact.objects.get(user_id="kept")
    assert (kept.email, kept.first_name, kept.locale) == ("new@example.com", "", "de")
    assert kept.quiet_hours == {"start": "22:00", "end": "07:00"} and kept.created_at == created
    assert kept.updated_at == later
    names = dict(Contact.objects.exclude(user_id="kept").values_list("user_id", "first_name"))
    assert names == {f"u{i}": text for i, text in enumerate(HOSTILE)}
    assert all(contact.quiet_hours == {} for contact in Contact.objects.exclude(user_id="kept"))
