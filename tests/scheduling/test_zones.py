"""notifications/scheduling/zones.py: IANA names checked and spelled canonically, the recipient's zone with
its fallbacks, abbreviations."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.scheduling.zones import (
    UTC_ZONE,
    abbreviation,
    canonical_zone,
    checked_zone,
    recipient_zone,
    zone_problem,
)


def test_names_are_read_in_any_case_and_stored_in_their_own():
    assert canonical_zone("Europe/Berlin") == "Europe/Berlin"
    assert canonical_zone("europe/berlin") == "Europe/Berlin"
    assert canonical_zone("America/New_York") == "America/New_York"
    assert checked_zone(" america/new_york\n") == "America/New_York"
    assert checked_zone("") == checked_zone(None) == ""


@pytest.mark.parametrize("value", ["Mars/Olympus", "../../etc/passwd", "Europe/Berlin/", "x" * 200, "GMT+2"])
def test_unknown_names_are_refused_naming_them(value):
    problem = zone_problem(value)
    assert problem is not None and "unknown time zone" in problem and "Europe/Berlin" in problem
    with pytest.raises(ValueError, match="unknown time zone"):
        checked_zone(value)


def test_a_value_that_is_not_text_is_refused():
    assert "IANA time zone" in (zone_problem(5) or "")
    assert zone_problem("") is None and zone_problem(None) is None


def test_fallback_order_contact_then_tenant_default_then_utc():
    assert recipient_zone("Asia/Tokyo", "Europe/Berlin") == ZoneInfo("Asia/Tokyo")
    assert recipient_zone("", "Europe/Berlin") == ZoneInfo("Europe/Berlin")
    assert recipient_zone("Not/AZone", "Europe/Berlin") == ZoneInfo("Europe/Berlin")  # stored around the checks
    assert recipient_zone(None, None) is UTC_ZONE
    assert recipient_zone(["x"], {"y": 1}) is UTC_ZONE


@pytest.mark.parametrize(("zone", "when", "text"), [
    ("Europe/Berlin", datetime(2026, 1, 15, 12, tzinfo=UTC), "CET"),
    ("Europe/Berlin", datetime(2026, 7, 15, 12, tzinfo=UTC), "CEST"),
    ("America/New_York", datetime(2026, 7, 15, 12, tzinfo=UTC), "EDT"),
    ("UTC", datetime(2026, 7, 15, 12, tzinfo=UTC), "UTC"),
    ("Asia/Dubai", datetime(2026, 7, 15, 12, tzinfo=UTC), "UTC+04"),
])
def test_abbreviations(zone, when, text):
    assert abbreviation(when.astimezone(ZoneInfo(zone))) == text
