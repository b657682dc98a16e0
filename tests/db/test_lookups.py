"""notifications/db/lookups.py: the `any` lookup, and UUIDs' `version`."""

from __future__ import annotations

import pytest
from django.db import connection

from notifications.events.models import Event
from tests.db.strings import HOSTILE


@pytest.mark.django_db
def test_any_lookup_finds_exactly_the_users_asked_for_whatever_their_ids_hold(tenant):
    from notifications.tenants.models import Contact

    for n, user_id in enumerate(HOSTILE):
        Contact.objects.create(tenant_id=tenant.pk, user_id=user_id, email=f"u{n}@example.com")
    Contact.objects.create(tenant_id=tenant.pk, user_id="someone else", email="x@example.com")
    wanted = [*HOSTILE[::2], "absent", "NULL "]
    found = Contact.objects.filter(tenant_id__any=[tenant.pk], user_id__any=wanted).values_list("user_id", flat=True)
    assert sorted(found) == sorted(HOSTILE[::2]), connection.vendor
    assert list(Contact.objects.filter(user_id__any=[])) == []


@pytest.mark.django_db
def test_any_lookup_on_key_and_number_columns_with_values_or_none(tenant):
    from notifications.delivery.models import NotificationRecord

    event = Event.objects.create(tenant_id=tenant.pk, event_type="user.login.succeeded", dedupe_key="k",
                                 occurred_at=__import__("django.utils.timezone").utils.timezone.now(), payload={})
    record = NotificationRecord.objects.create(tenant_id=tenant.pk, event=event, event_type="user.login.succeeded",
                                               channel="email", recipient="a@example.com")
    assert list(NotificationRecord.objects.filter(id__any=[])) == []
    assert list(Event.objects.filter(pk__any=[])) == []
    assert list(NotificationRecord.objects.filter(id__any=[record.pk]).values_list("pk", flat=True)) == [record.pk]
    assert list(Event.objects.filter(pk__any=[str(event.pk)]).values_list("pk", flat=True)) == [event.pk]


def test_a_uuid_s_version_tells_time_ordered_keys_from_random_ones(tenant):
    import uuid

    from notifications.events.models import EventKey
    from notifications.utils.ids import uuid7

    random_low, random_high, ordered = uuid.UUID("00" + uuid.uuid4().hex[2:]), uuid.uuid4(), uuid7()
    for key in (random_low, random_high, ordered):
        EventKey.objects.create(event_id=key, tenant_id=tenant.pk, dedupe_key=str(key))
    assert list(EventKey.objects.filter(event_id__version="7").values_list("event_id", flat=True)) == [ordered]
    assert set(EventKey.objects.exclude(event_id__version="7").values_list("event_id", flat=True)) == {
        random_low, random_high}
