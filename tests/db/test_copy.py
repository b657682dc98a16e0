"""notifications/db/copy.py: rows into a table with COPY (PostgreSQL) or bulk_create (elsewhere)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from notifications.db import insert_rows, insert_rows_ignoring_conflicts, json_text
from notifications.db.copy import _copy_plan, _copy_rows
from notifications.delivery.models import NotificationRecord
from notifications.events.models import Event, EventKey
from notifications.intake.dedupe import KEY_COLUMNS
from notifications.utils.ids import uuid7

MOMENT = datetime(2026, 11, 23, 12, 0, 1, 250000, tzinfo=UTC)
EVENT_COLUMNS = ("id", "tenant_id", "event_type", "event_id", "dedupe_key", "user_id", "occurred_at", "payload",
                 "metadata", "source")


def _event_row(n: int, **values: object) -> tuple[object, ...]:
    row = {"id": str(uuid7()), "tenant_id": "acme", "event_type": "task.assigned", "event_id": "",
           "dedupe_key": f"k{n}", "user_id": f"user-{n}", "occurred_at": MOMENT,
           "payload": {"n": n, "amount": Decimal("1.50"), "nested": [1, {"a": None}]}, "metadata": {},
           "source": "test", **values}
    return tuple(row[name] for name in EVENT_COLUMNS)


def test_copy_rows_are_key_then_converted_values_then_the_shared_tail():
    given, _, _ = _copy_plan(Event, EVENT_COLUMNS)
    key = uuid.uuid4()
    rows = [_event_row(0, id=key, metadata={"trace": "t-1"}), _event_row(1, occurred_at=MOMENT + timedelta(hours=1))]

    made = [tuple(row) for row in _copy_rows(given, rows, ("tail-a", 7), keys=[10, 11])]

    assert made == [
        (10, str(key), "acme", "task.assigned", "", "k0", "user-0", MOMENT.isoformat(),
         '{"n":0,"amount":"1.50","nested":[1,{"a":null}]}', '{"trace":"t-1"}', "test", "tail-a", 7),
        (11, rows[1][0], "acme", "task.assigned", "", "k1", "user-1", (MOMENT + timedelta(hours=1)).isoformat(),
         '{"n":1,"amount":"1.50","nested":[1,{"a":null}]}', "{}", "test", "tail-a", 7),
    ]
    assert [tuple(row) for row in _copy_rows(given, rows[:1], ())] == [made[0][1:-2]]  # no keys, no tail


def test_copy_rows_refuse_rows_of_different_lengths():
    given, _, _ = _copy_plan(Event, EVENT_COLUMNS)
    with pytest.raises(ValueError, match="zip"):
        list(_copy_rows(given, [_event_row(0), _event_row(1)[:-1]], ()))


@pytest.mark.parametrize("value", [{}, {"a": 1}, [], [{}], {"when": MOMENT}, {"n": Decimal("2.5")}, {"": {}}])
def test_json_text_writes_what_djangos_encoder_writes(value):
    assert orjson.loads(json_text(value)) == json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    assert json_text({}) == "{}"


@pytest.mark.django_db
def test_events_and_records_go_in_and_read_back_as_given(tenant):
    rows = [_event_row(n, tenant_id=tenant.pk, metadata={"n": n} if n else {},
                       payload={"n": n, "amount": "1.50", "nested": [1, {"a": None}]}) for n in range(3)]
    with transaction.atomic():
        inserted = insert_rows_ignoring_conflicts(Event, EVENT_COLUMNS, rows)
        keys = insert_rows_ignoring_conflicts(EventKey, KEY_COLUMNS, [(row[0], tenant.pk, row[4]) for row in rows])
        again = insert_rows_ignoring_conflicts(EventKey, KEY_COLUMNS, [(str(uuid7()), tenant.pk, "k1")])
    assert inserted == keys == {row[0] for row in rows}
    assert again == set()  # its dedupe key is taken: skipped, not an error
    for row in rows:
        event = Event.objects.get(pk=row[0])
        assert (event.occurred_at, event.payload["amount"], event.metadata) == (MOMENT, "1.50", row[8])
        assert event.received_at is not None  # the auto time every row shares

    record_columns = ("tenant_id", "event_id", "event_type", "user_id", "channel", "recipient", "status",
                      "next_attempt_at")
    keys = insert_rows(NotificationRecord, record_columns, [
        (tenant.pk, rows[n][0], "task.assigned", f"user-{n}", "email", f"u{n}@example.com", "pending",
         MOMENT.isoformat()) for n in range(3)], plain=True)
    assert len(set(keys)) == 3
    stored = NotificationRecord.objects.get(pk=keys[2])
    assert (stored.recipient, stored.status, stored.next_attempt_at) == ("u2@example.com", "pending", MOMENT)
