"""notifications/scheduling/quiet_hours.py: the window rule in local time, across midnight and across
daylight-saving changes (Europe/Berlin and America/New_York), whose window applies, and what is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from notifications.scheduling.quiet_hours import (
    QuietHours,
    first_instant_at,
    for_recipient,
    read_window,
    window_problems,
)

BERLIN, NEW_YORK = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
NIGHT = read_window({"start": "22:00", "end": "07:00"})


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def local(zone: ZoneInfo, *parts: int, fold: int = 0) -> datetime:
    return datetime(*parts, tzinfo=zone, fold=fold)


def test_a_window_wrapping_midnight_holds_until_its_end_the_next_morning():
    assert NIGHT is not None
    # Winter: Berlin is UTC+1. 23:30 local on Dec 6 -> 07:00 local on Dec 7 = 06:00 UTC.
    assert NIGHT.release(utc(2026, 12, 6, 22, 30), BERLIN) == utc(2026, 12, 7, 6, 0)
    # 03:00 local, after midnight: the same morning.
    assert NIGHT.release(utc(2026, 12, 7, 2, 0), BERLIN) == utc(2026, 12, 7, 6, 0)


@pytest.mark.parametrize(("moment", "held"), [
    (utc(2026, 12, 6, 20, 59), False),  # 21:59 local
    (utc(2026, 12, 6, 21, 0), True),  # 22:00: the window starts
    (utc(2026, 12, 7, 5, 59, 59), True),  # 06:59:59
    (utc(2026, 12, 7, 6, 0), False),  # 07:00: over
    (utc(2026, 12, 7, 11, 0), False),  # noon
])
def test_the_window_includes_its_start_and_not_its_end(moment, held):
    assert NIGHT is not None
    assert (NIGHT.release(moment, BERLIN) is not None) is held


def test_a_window_within_one_day():
    siesta = read_window({"start": "13:00", "end": "15:30"})
    assert siesta is not None
    assert siesta.release(utc(2026, 12, 6, 12, 10), BERLIN) == utc(2026, 12, 6, 14, 30)
    assert siesta.release(utc(2026, 12, 6, 11, 59), BERLIN) is None
    assert siesta.release(utc(2026, 12, 6, 14, 30), BERLIN) is None


def test_the_same_instant_is_inside_for_one_zone_and_outside_for_another():
    assert NIGHT is not None
    moment = utc(2026, 12, 7, 3, 0)  # 04:00 in Berlin, 22:00 the evening before in New York
    assert NIGHT.release(moment, BERLIN) == utc(2026, 12, 7, 6, 0)
    assert NIGHT.release(moment, NEW_YORK) == utc(2026, 12, 7, 12, 0)  # 07:00 EST
    assert NIGHT.release(utc(2026, 12, 6, 20, 0), NEW_YORK) is None  # 15:00 in New York


# Daylight-saving time. 2026: Berlin springs forward on March 29 (02:00 CET -> 03:00 CEST) and falls back on
# October 25 (03:00 CEST -> 02:00 CET); New York on March 8 (02:00 EST -> 03:00 EDT) and November 1 (02:00 EDT ->
# 01:00 EST).

@pytest.mark.parametrize(("zone", "evening", "release", "hours"), [
    (BERLIN, local(BERLIN, 2026, 3, 28, 22, 0), local(BERLIN, 2026, 3, 29, 7, 0), 8),  # spring forward
    (BERLIN, local(BERLIN, 2026, 10, 24, 22, 0), local(BERLIN, 2026, 10, 25, 7, 0), 10),  # fall back
    (NEW_YORK, local(NEW_YORK, 2026, 3, 7, 22, 0), local(NEW_YORK, 2026, 3, 8, 7, 0), 8),
    (NEW_YORK, local(NEW_YORK, 2026, 10, 31, 22, 0), local(NEW_YORK, 2026, 11, 1, 7, 0), 10),
])
def test_a_window_spanning_the_change_follows_the_local_clock(zone, evening, release, hours):
    assert NIGHT is not None
    held = NIGHT.release(evening, zone)
    assert held == release
    assert held - evening == timedelta(hours=hours)
    assert held.astimezone(zone).strftime("%H:%M") == "07:00"


def test_an_end_the_clock_skips_resolves_to_the_jump():
    window = read_window({"start": "22:00", "end": "02:30"})
    assert window is not None
    # Berlin, March 29: 02:30 does not exist; the first instant after is 03:00 CEST = 01:00 UTC.
    held = window.release(local(BERLIN, 2026, 3, 28, 23, 0), BERLIN)
    assert held == utc(2026, 3, 29, 1, 0)
    assert held.astimezone(BERLIN).strftime("%H:%M %Z") == "03:00 CEST"
    # New York, March 8: 03:00 EDT = 07:00 UTC.
    assert window.release(local(NEW_YORK, 2026, 3, 8, 1, 15), NEW_YORK) == utc(2026, 3, 8, 7, 0)


def test_an_end_the_clock_shows_twice_is_the_first_after_the_records_time():
    window = read_window({"start": "00:00", "end": "01:30"})
    assert window is not None
    # New York, November 1: 01:30 happens at 05:30 UTC (EDT) and again at 06:30 UTC (EST).
    first_pass = local(NEW_YORK, 2026, 11, 1, 1, 10, fold=0)  # 05:10 UTC
    second_pass = local(NEW_YORK, 2026, 11, 1, 1, 10, fold=1)  # 06:10 UTC
    assert window.release(first_pass, NEW_YORK) == utc(2026, 11, 1, 5, 30)  # the earlier one (fold=0)
    assert window.release(second_pass, NEW_YORK) == utc(2026, 11, 1, 6, 30)  # past it: the later one
    assert window.release(local(NEW_YORK, 2026, 10, 31, 23, 0), NEW_YORK) is None
    assert window.release(local(NEW_YORK, 2026, 11, 1, 0, 20), NEW_YORK) == utc(2026, 11, 1, 5, 30)


def test_first_instant_at_a_plain_time():
    day = datetime(2026, 12, 7).date()
    assert first_instant_at(day, 7 * 60, BERLIN, after=utc(2026, 12, 6, 0, 0)) == utc(2026, 12, 7, 6, 0)


def test_channels_default_to_every_channel_but_in_app():
    assert NIGHT is not None
    assert [c for c in ("email", "sms", "push", "in_app") if NIGHT.covers(c)] == ["email", "sms", "push"]
    only = read_window({"start": "22:00", "end": "07:00", "channels": ["push", "in_app"]})
    assert only is not None
    assert [c for c in ("email", "sms", "push", "in_app") if only.covers(c)] == ["push", "in_app"]


def test_whose_window_the_users_own_replaces_the_tenants_and_off_means_none():
    tenant = QuietHours(22 * 60, 7 * 60, None)
    assert for_recipient({}, tenant) is tenant
    assert for_recipient(None, tenant) is tenant
    assert for_recipient({"off": False}, tenant) is tenant
    assert for_recipient({"off": True}, tenant) is None
    assert for_recipient({"start": "23:00", "end": "06:00"}, tenant) == QuietHours(23 * 60, 6 * 60, None)
    assert for_recipient({"start": "23:00", "end": "06:00"}, None) == QuietHours(23 * 60, 6 * 60, None)
    # A value written around the checks is no window of the user's: the tenant's applies.
    assert for_recipient({"start": "late", "end": "06:00"}, tenant) is tenant


@pytest.mark.parametrize("stored", [None, {}, [], "22:00-07:00", {"start": "22:00"}, {"off": True},
                                    {"start": "22:00", "end": "07:00", "channels": "push"},
                                    {"start": "25:00", "end": "07:00"}])
def test_read_window_never_fails_on_what_is_stored(stored):
    assert read_window(stored) is None


@pytest.mark.parametrize(("value", "key", "words"), [
    ("22:00-07:00", "quiet_hours", "must be an object"),
    ({"start": "10pm", "end": "07:00"}, "quiet_hours.start", "must be HH:MM"),
    ({"start": "22:00", "end": "24:00"}, "quiet_hours.end", "must be HH:MM"),
    ({"start": "22:00", "end": 7}, "quiet_hours.end", "must be HH:MM"),
    ({"end": "07:00"}, "quiet_hours.start", "is required"),
    ({"start": "22:00", "end": "22:00"}, "quiet_hours.end", "must differ from start"),
    ({"start": "22:00", "end": "07:00", "channels": ["pager"]}, "quiet_hours.channels", "unknown channel(s) pager"),
    ({"start": "22:00", "end": "07:00", "channels": [["push"]]}, "quiet_hours.channels", "unknown channel(s)"),
    ({"start": "22:00", "end": "07:00", "channels": []}, "quiet_hours.channels", "must be a list of channels"),
    ({"start": "22:00", "end": "07:00", "from": "x"}, "quiet_hours", "unknown key(s) from"),
    ({"off": "yes"}, "quiet_hours.off", "must be true or false"),
    ({"off": True, "start": "22:00", "end": "07:00"}, "quiet_hours.off", "give it alone"),
])
def test_window_problems_name_the_bad_part(value, key, words):
    problems = window_problems(value)
    assert key in problems, problems
    assert words in problems[key]


@pytest.mark.parametrize("value", [{}, {"off": True}, {"off": False}, {"start": "22:00", "end": "07:00"},
                                   {"start": "00:00", "end": "23:59", "channels": ["sms", "push"]}])
def test_window_problems_accept_windows_and_none(value):
    assert window_problems(value) == {}
