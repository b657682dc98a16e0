"""notifications/digests/rules.py: a schedule's close around daylight-saving changes (compared as instants; a
skipped time is the jump, a repeated one the first showing after the opening), and quiet_release."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from notifications.digests.rules import DigestRule, quiet_release

NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


def test_a_window_opened_in_the_repeated_hour_closes_after_it_opened():
    daily = DigestRule("schedule", at=time(1, 30))
    # 1 November 2026: New York's clocks go back from 02:00 EDT to 01:00 EST. 06:15 UTC = 01:15 EST, the second
    # 01:15 of the night: the next 01:30 is the second one, 06:30 UTC (the first, 05:30 UTC, is over).
    opened = datetime(2026, 11, 1, 6, 15, tzinfo=UTC)
    assert daily.closes_at(opened, NEW_YORK) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    # Opened at 01:15 EDT (the first pass): the first 01:30, 05:30 UTC.
    assert daily.closes_at(datetime(2026, 11, 1, 5, 15, tzinfo=UTC), NEW_YORK) == datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC)
    # Opened at 01:45 EST, after both: tomorrow's 01:30 EST.
    assert daily.closes_at(datetime(2026, 11, 1, 6, 45, tzinfo=UTC), NEW_YORK) == datetime(
        2026, 11, 2, 6, 30, tzinfo=UTC)


def test_a_time_the_clock_skips_closes_at_the_jump():
    daily = DigestRule("schedule", at=time(2, 30))
    # 28 March 2027: Berlin's clocks jump from 02:00 CET to 03:00 CEST (01:00 UTC). 01:45 CET = 00:45 UTC.
    assert daily.closes_at(datetime(2027, 3, 28, 0, 45, tzinfo=UTC), BERLIN) == datetime(
        2027, 3, 28, 1, 0, tzinfo=UTC)
    weekly = DigestRule("schedule", at=time(2, 30), weekday=6)  # Sundays 02:30
    assert weekly.closes_at(datetime(2027, 3, 27, 12, 0, tzinfo=UTC), BERLIN) == datetime(
        2027, 3, 28, 1, 0, tzinfo=UTC)
    # Past the jump: next Sunday's 02:30 CEST.
    assert weekly.closes_at(datetime(2027, 3, 28, 1, 0, tzinfo=UTC), BERLIN) == datetime(
        2027, 4, 4, 0, 30, tzinfo=UTC)


def test_every_daily_close_is_later_than_its_opening_and_within_a_day_across_both_changes():
    for zone, start in ((NEW_YORK, datetime(2026, 10, 31, 12, 0, tzinfo=UTC)),
                        (NEW_YORK, datetime(2027, 3, 13, 12, 0, tzinfo=UTC)),
                        (BERLIN, datetime(2026, 10, 24, 12, 0, tzinfo=UTC)),
                        (BERLIN, datetime(2027, 3, 27, 12, 0, tzinfo=UTC))):
        for at in (time(1, 30), time(2, 0), time(2, 30), time(3, 0)):
            rule = DigestRule("schedule", at=at)
            for step in range(0, 48 * 60, 5):
                opened = start + timedelta(minutes=step)
                closes = rule.closes_at(opened, zone)
                assert opened < closes <= opened + timedelta(hours=25), (zone, at, opened, closes)


def test_quiet_release_reads_the_contacts_window_and_zone_before_the_tenants():
    settings = {"quiet_hours": {"start": "22:00", "end": "07:00"}, "default_timezone": "Europe/Berlin"}
    at = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)  # 23:00 Berlin, 17:00 New York
    assert quiet_release(settings, {}, "push", at) == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
    assert quiet_release(settings, {}, "in_app", at) is None  # a window without channels leaves in-app alone
    assert quiet_release(settings, {"timezone": "America/New_York"}, "push", at) is None
    assert quiet_release(settings, {"quiet_hours": {"off": True}}, "push", at) is None
    assert quiet_release("not a dict", {}, "push", at) is None
