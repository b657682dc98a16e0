"""notifications/formatting.py: times in a zone with its abbreviation, the zone of the recipient being rendered
for, days of datetimes in that zone and dates left as they are."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from notifications.formatting import format_date, format_datetime, recipient_zone


def test_naive_and_utc_values_read_as_utc_by_default():
    assert format_datetime("2026-12-07T09:30:00") == "December 7, 2026, 9:30 AM UTC"
    assert format_datetime(datetime(2026, 12, 7, 9, 30, tzinfo=UTC)) == "December 7, 2026, 9:30 AM UTC"


@pytest.mark.parametrize(("zone", "shown"), [
    ("Europe/Berlin", "December 7, 2026, 10:30 AM CET"),
    (ZoneInfo("America/New_York"), "December 7, 2026, 4:30 AM EST"),
    ("Asia/Kolkata", "December 7, 2026, 3:00 PM IST"),
    ("Asia/Dubai", "December 7, 2026, 1:30 PM UTC+04"),
    ("Not/AZone", "December 7, 2026, 9:30 AM UTC"),
])
def test_a_zone_given_by_name_or_object(zone, shown):
    assert format_datetime("2026-12-07T09:30:00Z", zone=zone) == shown


def test_one_instant_formatted_for_two_zones_is_not_mixed_up_by_the_cache():
    moment = datetime(2026, 7, 7, 9, 30, tzinfo=UTC)
    assert format_datetime(moment, zone="Europe/Berlin").endswith("11:30 AM CEST")
    assert format_datetime(moment.astimezone(ZoneInfo("Asia/Tokyo")), zone="America/New_York").endswith(
        "5:30 AM EDT")


def test_the_recipient_zone_applies_inside_its_block_only():
    with recipient_zone("Europe/Berlin"):
        assert format_datetime("2026-12-07T23:30:00Z") == "December 8, 2026, 12:30 AM CET"
        assert format_date("2026-12-07T23:30:00Z") == "December 8, 2026"
        assert format_datetime("2026-12-07T23:30:00Z", zone="UTC").endswith("11:30 PM UTC")  # given wins
    assert format_datetime("2026-12-07T23:30:00Z").endswith("11:30 PM UTC")


def test_a_date_without_a_time_is_shown_as_it_is():
    with recipient_zone("America/Los_Angeles"):
        assert format_date("2026-12-24") == "December 24, 2026"
        assert format_date(date(2026, 12, 24)) == "December 24, 2026"
        assert format_date("2026-12-24T02:00:00Z") == "December 23, 2026"


def test_values_at_the_edge_of_the_calendar_do_not_fail():
    assert format_datetime(datetime.max.replace(tzinfo=UTC), zone="Asia/Tokyo")
    assert format_date(datetime.min.replace(tzinfo=UTC), zone="America/New_York")
    assert format_datetime("not a date", zone="Europe/Berlin") == "not a date"


@pytest.mark.parametrize("amount,currency,locale", [
    ("49.5", "USD", "en_US"), ("49.50", "USD", "en_US"), ("1234", "EUR", "de_DE"), ("0.0001", "JPY", "ja_JP"),
    ("1E+3", "GBP", "en_GB"), ("-3.2", "CHF", "fr_CH"),
])
def test_the_formatting_memo_gives_what_babel_gives(amount, currency, locale):
    from decimal import Decimal

    from babel.numbers import format_currency

    from notifications.formatting import format_money

    expected = format_currency(Decimal(amount), currency, locale=locale)
    assert format_money(amount, currency, locale) == expected
    assert format_money(amount, currency, locale) == expected  # from the memo


def test_a_signalling_nan_is_formatted_without_the_memo():
    from notifications.formatting import format_money

    assert format_money("sNaN", "USD") == "sNaN USD"  # Babel raises for it; the template gets text


def test_format_date_by_day_matches_babel_for_datetimes_in_a_zone():
    from datetime import UTC, datetime

    from babel.dates import format_date as babel_format_date

    from notifications.formatting import format_date

    moment = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    assert format_date(moment, "de_DE", "Europe/Berlin") == babel_format_date(
        datetime(2027, 1, 1).date(), format="long", locale="de_DE")
    assert format_date(moment, "en_US", "UTC") == "December 31, 2026"


@pytest.mark.parametrize(("locale", "expected"), [
    ("en_US", "December 6, 2026, 4:05 PM CET"),  # as every English text showed it
    ("de_DE", "6. Dezember 2026, 16:05 CET"),
    ("fr_FR", "6 décembre 2026, 16:05 CET"),
    ("es_ES", "6 de diciembre de 2026, 16:05 CET"),
])
def test_times_take_each_languages_own_clock(locale, expected):
    assert format_datetime(datetime(2026, 12, 6, 15, 5, tzinfo=UTC), locale, "Europe/Berlin") == expected
