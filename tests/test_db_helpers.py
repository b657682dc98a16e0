"""The PostgreSQL write helpers' pieces that do not need a server."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from notifications.db import array_literal, rows_by_ids
from notifications.events.models import Event


def test_array_literal_writes_ids_as_one_text_and_leaves_anything_else_to_psycopg():
    first, second = uuid.uuid4(), uuid.uuid4()
    assert array_literal([3, 1, 2]) == "{3,1,2}"
    assert array_literal(iter([first, second])) == f"{{{first},{second}}}"
    assert array_literal([]) == "{}"
    # Text could hold a comma, a brace or a quote: never spliced into a literal.
    assert array_literal(["a,b", "c"]) == ["a,b", "c"]
    assert array_literal([True, 2]) == [True, 2]


@pytest.mark.django_db
def test_rows_by_ids_reads_the_rows_asked_for(tenant):
    from django.utils import timezone

    events = [Event.objects.create(tenant_id=tenant.pk, event_type="user.login.succeeded", dedupe_key=f"k{n}",
                                   occurred_at=timezone.now(), payload={"n": n}) for n in range(3)]
    rows = rows_by_ids(Event, ["id", "payload"], [events[2].pk, events[0].pk])
    assert sorted((row[1]["n"] for row in rows)) == [0, 2], connection.vendor
    assert rows_by_ids(Event, ["id"], []) == []


@pytest.mark.django_db
def test_rows_by_ids_reads_timestamps_as_the_orm_does(tenant):
    from datetime import datetime, timedelta, timezone as tz

    moments = [datetime(2026, 11, 24, 7, 20, 40, 123456, tzinfo=tz.utc), datetime(1999, 1, 2, 3, 4, 5, tzinfo=tz.utc),
               datetime(2026, 3, 29, 1, 30, tzinfo=tz(timedelta(hours=2)))]
    events = [Event.objects.create(tenant_id=tenant.pk, event_type="user.login.succeeded", dedupe_key=f"t{n}",
                                   occurred_at=moment, payload={}) for n, moment in enumerate(moments)]
    loaded = dict(rows_by_ids(Event, ["id", "occurred_at"], [event.pk for event in events]))
    for event, moment in zip(events, moments, strict=True):
        assert loaded[event.pk] == moment == Event.objects.get(pk=event.pk).occurred_at
        assert loaded[event.pk].utcoffset() == timedelta(0)


HOSTILE = ["plain", "a,b", "{brace}", 'say "hi"', "back\\slash", "", " padded ", "NULL", "null", "tab\there",
           "line\nbreak", "ünïcödé", "\\\"", "quote'single"]


def test_text_array_literal_quotes_every_element():
    from notifications.db import text_array_literal

    assert text_array_literal(["a", "b"]) == '{"a","b"}'
    assert text_array_literal([]) == "{}"
    assert text_array_literal(['x"y', "z\\"]) == '{"x\\"y","z\\\\"}'


@pytest.mark.django_db
def test_text_array_literal_reads_back_as_the_same_strings_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL array literal")
    from notifications.db import text_array_literal

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array_literal(HOSTILE)])
        assert cursor.fetchone()[0] == HOSTILE


@pytest.mark.django_db
def test_any_lookup_finds_exactly_the_users_asked_for_whatever_their_ids_hold(tenant):
    from notifications.tenants.models import Contact

    for n, user_id in enumerate(HOSTILE):
        Contact.objects.create(tenant_id=tenant.pk, user_id=user_id, email=f"u{n}@example.com")
    Contact.objects.create(tenant_id=tenant.pk, user_id="someone else", email="x@example.com")
    wanted = HOSTILE[::2] + ["absent", "NULL "]
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
