"""Reading a requested time: deliver_at with an offset, delay as seconds or an ISO 8601 duration; every problem
is a reason, never an exception or a silently ignored field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from notifications.scheduling.parse import parse_delay, parse_deliver_at, requested_time

NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)


def test_deliver_at_with_an_offset_is_read_in_utc():
    moment, problem = requested_time("2026-12-06T11:30:00+01:00", None, NOW)
    assert problem is None and moment == datetime(2026, 12, 6, 10, 30, tzinfo=UTC) and moment.tzinfo is UTC
    assert requested_time("2026-12-06T10:30:00Z", None, NOW)[0] == datetime(2026, 12, 6, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(("value", "words"), [
    ("2026-12-06T11:30:00", "needs an offset"),
    ("tomorrow at noon", "not an ISO 8601 date-time"),
    ("", "ISO 8601 date-time with an offset"),
    (1733477400, "ISO 8601 date-time with an offset"),
    ("2026-12-06T11:30:00+01:00" + " " * 100, "ISO 8601 date-time with an offset"),
])
def test_an_unreadable_deliver_at_is_refused_with_its_reason(value, words):
    moment, problem = parse_deliver_at(value)
    assert moment is None and problem is not None and words in problem


@pytest.mark.parametrize(("value", "expected"), [
    (600, timedelta(minutes=10)),
    (0.5, timedelta(milliseconds=500)),
    ("PT10M", timedelta(minutes=10)),
    ("P1DT2H", timedelta(days=1, hours=2)),
    (0, timedelta(0)),
])
def test_delay_as_seconds_or_an_iso_duration(value, expected):
    assert parse_delay(value) == (expected, None)


@pytest.mark.parametrize("value", [-1, "-PT5M", "10 minutes", "PT", True, float("nan"), float("inf"), [],
                                   "P" + "9" * 30 + "D"])
def test_an_unreadable_or_negative_delay_is_refused(value):
    wait, problem = parse_delay(value)
    assert wait is None and problem


def test_a_time_in_the_past_means_at_once():
    assert requested_time("2020-01-01T00:00:00Z", None, NOW) == (None, None)
    assert requested_time(None, 0, NOW) == (None, None)


def test_beyond_the_horizon_is_refused(settings):
    assert "90 days" in requested_time(None, "P91D", NOW)[1]
    assert "90 days" in requested_time((NOW + timedelta(days=91)).isoformat(), None, NOW)[1]
    assert requested_time(None, "P89D", NOW) == (NOW + timedelta(days=89), None)
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "SCHEDULE_HORIZON_DAYS": 7}
    assert "7 days" in requested_time(None, "P8D", NOW)[1]
    assert "7 days" in requested_time("9999-12-31T23:59:59+00:00", None, NOW)[1]


def test_deliver_at_and_delay_together_are_refused():
    assert requested_time("2026-12-06T11:30:00Z", 60, NOW) == (None, "give deliver_at or delay, not both")
