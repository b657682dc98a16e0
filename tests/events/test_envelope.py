from __future__ import annotations

import pytest

from notifications.enums import Outcome
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_naive_and_zulu_timestamps_are_utc():
    first = event_registry.process_event(make_event("content.liked") | {"timestamp": "2026-01-01T10:00:00"})
    second = event_registry.process_event(
        make_event("content.liked", content_id="P-10") | {"timestamp": "2026-01-01T10:00:00Z"}
    )

    assert first.outcome == second.outcome == Outcome.PROCESSED
    times = {e.occurred_at.isoformat() for e in Event.objects.all()}
    assert times == {"2026-01-01T10:00:00+00:00"}


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-01Z", "2026-01-01T00:00:00+00:00"),  # a date alone, in UTC: midnight
    ("2026-01-01T10:00:00+02:00", "2026-01-01T08:00:00+00:00"),
    ("2026-01-01T10:00:00.123456Z", "2026-01-01T10:00:00.123456+00:00"),
    ("2026-01-01T10:00:00", "2026-01-01T10:00:00+00:00"),
])
def test_timestamps_read_as_utc(text, expected):
    from notifications.events.envelope import _parse_timestamp

    assert _parse_timestamp(text).isoformat() == expected


@pytest.mark.parametrize("text", ["2026-01-01Z10:00:00Z", "yesterday", "", "1969-12-31T23:59:59Z", "9001-01-01"])
def test_timestamps_that_are_refused(text):
    from notifications.events.envelope import _parse_timestamp

    assert _parse_timestamp(text) is None
