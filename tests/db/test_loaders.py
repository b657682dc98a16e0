"""notifications/db/loaders.py: plain rows by primary key."""

from __future__ import annotations

import pytest
from django.db import connection

from notifications.db import rows_by_ids
from notifications.events.models import Event


@pytest.mark.django_db
def test_rows_by_ids_reads_the_rows_asked_for(tenant):
    from django.utils import timezone

    events = [Event.objects.create(tenant_id=tenant.pk, event_type="user.login.succeeded", dedupe_key=f"k{n}",
                                   occurred_at=timezone.now(), payload={"n": n}) for n in range(3)]
    rows = rows_by_ids(Event, ["id", "payload"], [events[2].pk, events[0].pk])
    assert sorted(row[1]["n"] for row in rows) == [0, 2], connection.vendor
    assert rows_by_ids(Event, ["id"], []) == []


@pytest.mark.django_db
def test_rows_by_ids_reads_timestamps_as_the_orm_does(tenant):
    from datetime import UTC, datetime, timedelta
    from datetime import timezone as tz

    moments = [datetime(2026, 11, 24, 7, 20, 40, 123456, tzinfo=UTC), datetime(1999, 1, 2, 3, 4, 5, tzinfo=UTC),
               datetime(2026, 3, 29, 1, 30, tzinfo=tz(timedelta(hours=2)))]
    events = [Event.objects.create(tenant_id=tenant.pk, event_type="user.login.succeeded", dedupe_key=f"t{n}",
                                   occurred_at=moment, payload={}) for n, moment in enumerate(moments)]
    loaded = dict(rows_by_ids(Event, ["id", "occurred_at"], [event.pk for event in events]))
    for event, moment in zip(events, moments, strict=True):
        assert loaded[event.pk] == moment == Event.objects.get(pk=event.pk).occurred_at
        assert loaded[event.pk].utcoffset() == timedelta(0)
