"""history.export: rows of events, their records and attempts, by tenant and received time; secrets masked;
memory bounded by the chunk."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from notifications.channels.base import Failed, FailureKind
from notifications.enums import Channel
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.history.export import (
    ATTEMPT_COLUMNS,
    EVENT_COLUMNS,
    RECORD_COLUMNS,
    ExportQuery,
    export_rows,
    kinds_in,
    masked,
)
from notifications.models import DeliveryAttempt, NotificationRecord
from notifications.security.redaction import MASK
from notifications.testing import InMemorySender, make_event, use_sender

pytestmark = pytest.mark.django_db

WIDE = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))


def _all(tenant_id: str = "acme", **kwargs) -> list[dict]:
    return list(export_rows(ExportQuery(tenant_id, *WIDE, **kwargs)))


def test_an_event_its_records_and_each_attempt_are_exported_linked_by_id(tenant, deliver):
    event_registry.process_event(make_event("user.login.succeeded"))
    failing = InMemorySender(Channel.EMAIL, respond=lambda m: Failed(FailureKind.TRANSIENT, "smtp_421", "busy"))
    with use_sender(failing):
        deliver()
    NotificationRecord.objects.update(next_attempt_at=timezone.now())
    deliver()

    rows = _all()
    assert kinds_in(rows) == {"event": 1, "record": NotificationRecord.objects.count(),
                              "attempt": DeliveryAttempt.objects.count()}
    event, record = rows[0], rows[1]
    assert set(event) == set(EVENT_COLUMNS) and event["event"] == str(Event.objects.get().pk)
    assert set(record) == set(RECORD_COLUMNS) and record["event"] == event["event"]
    attempts = [row for row in rows if row["kind"] == "attempt"]
    assert [a["outcome"] for a in attempts] == ["transient", "sent"]
    assert all(set(a) == set(ATTEMPT_COLUMNS) and a["record"] == record["record"] for a in attempts)
    assert record["status"] == "sent" and record["attempts"] == 2


def test_secrets_never_leave_sealed_purged_or_by_name(tenant, deliver):
    event_registry.process_event(make_event("auth.2fa.code.requested", code="731904"))
    deliver()
    rows = _all()
    event = rows[0]
    assert event["payload"]["code"] == MASK
    assert "731904" not in repr(rows)

    stored = Event.objects.get()
    stored.payload = {**stored.payload, "code": {"$purged": True}}
    stored.save(update_fields=["payload"])
    assert _all()[0]["payload"]["code"] == MASK


def test_masked_walks_nested_values_and_known_secret_keys():
    value = {"a": {"$enc": "gAAA"}, "list": [{"$purged": True}, {"password": "hunter2"}], "plain": "x"}
    assert masked(value, frozenset({"password"})) == {"a": MASK, "list": [MASK, {"password": MASK}], "plain": "x"}


def test_only_the_tenants_own_events_in_the_range_and_types_asked(tenant, deliver):
    from notifications.tenants.models import Tenant

    Tenant.objects.create(id="globex")
    event_registry.process_events([make_event("user.login.succeeded"), make_event("task.assigned"),
                                   make_event("user.login.succeeded", tenant_id="globex")])
    assert {row["tenant_id"] for row in _all()} == {"acme"}
    assert kinds_in(_all())["event"] == 2
    assert {row["event_type"] for row in _all(event_types=("task.assigned",)) if row["kind"] == "event"} == {
        "task.assigned"}
    assert {row["tenant_id"] for row in _all("globex")} == {"globex"}

    now = timezone.now()
    assert list(export_rows(ExportQuery("acme", now + timedelta(seconds=1), now + timedelta(hours=1)))) == []
    assert kinds_in(export_rows(ExportQuery("acme", now - timedelta(hours=1), now + timedelta(seconds=1))))[
        "event"] == 2


def test_events_come_in_received_order_with_progress_per_chunk(tenant):
    event_registry.process_events([make_event("user.login.succeeded", ip_address=f"198.51.100.{i}")
                                   for i in range(7)])
    done: list[int] = []
    rows = list(export_rows(ExportQuery("acme", *WIDE), chunk=3, progress=done.append))
    events = [row for row in rows if row["kind"] == "event"]
    assert len(events) == 7 and done == [3, 6, 7]
    received = [(row["received_at"], row["event"]) for row in events]
    assert received == sorted(received)
    # Each chunk's records follow its events: the first chunk's records name only its three events.
    first_chunk = {row["event"] for row in events[:3]}
    before_fourth = rows[:rows.index(events[3])]
    assert {row["event"] for row in before_fourth if row["kind"] == "record"} == first_chunk


@pytest.mark.parametrize(("since", "until", "message"), [
    (WIDE[1], WIDE[0], "since must be before until"),
    (datetime(2026, 1, 1), WIDE[1], "time zone"),
])
def test_bad_ranges_are_refused(since, until, message):
    with pytest.raises(ValueError, match=message):
        ExportQuery("acme", since, until)


def test_memory_is_bounded_by_the_chunk_not_the_export(tenant):
    """Peak Python memory while exporting 1,200 events is about that of 300 (chunks of 100): the rows are made,
    handed on and dropped, never gathered."""
    event_registry.process_events([make_event("user.login.succeeded", ip_address=f"198.51.{i // 250}.{i % 250}")
                                   for i in range(1200)])
    ids = list(Event.objects.order_by("received_at", "id").values_list("received_at", flat=True))

    def peak(until: datetime) -> int:
        tracemalloc.start()
        try:
            count = sum(1 for _ in export_rows(ExportQuery("acme", WIDE[0], until), chunk=100))
            assert count > 0
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small = peak(ids[299] + timedelta(microseconds=1))
    large = peak(WIDE[1])
    assert large < small * 1.6, (small, large)
