"""Locale-aware formatting of amounts and dates for templates (Babel). Times are shown in the recipient's zone
with its abbreviation ("December 7, 2026, 10:30 AM CET"): the zone given, else the one set for the recipient
being rendered for (`recipient_zone`, or `use_zone` on the hot path: rendering.context.build_context sets it
around the handler's hooks; the templates' `datetime` and `date` filters read the template context's
`timezone`), else UTC."""

from __future__ import annotations

from contextlib import suppress
from contextvars import ContextVar, Token
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.dates import format_timedelta, get_time_format
from babel.numbers import UnknownCurrencyError, format_currency
from jinja2 import pass_context
from jinja2.runtime import Context

from notifications.scheduling.zones import UTC_ZONE, abbreviation, as_zone

DEFAULT_LOCALE = "en_US"
_ZONE: ContextVar[tzinfo] = ContextVar("recipient_zone", default=UTC_ZONE)


class recipient_zone:
    """`with recipient_zone(zone):` times formatted inside are shown in `zone` (a zone or an IANA name; blank or
    unknown: UTC)."""

    __slots__ = ("_token", "_zone")

    def __init__(self, zone: tzinfo | str | None) -> None:
        self._zone = as_zone(zone) or UTC_ZONE

    def __enter__(self) -> None:
        self._token = use_zone(self._zone)

    def __exit__(self, *exc: object) -> None:
        reset_zone(self._token)


def use_zone(zone: tzinfo) -> Token[tzinfo] | None:
    """recipient_zone's steps for a hot path (build_context, once per message): sets the zone, returning what
    reset_zone takes; None (nothing to undo) when it is the zone in use already, as UTC mostly is."""
    return None if _ZONE.get() is zone else _ZONE.set(zone)


def reset_zone(token: Token[tzinfo] | None) -> None:
    if token is not None:
        _ZONE.reset(token)


@lru_cache(maxsize=1024)
def normalise_locale(value: str | None) -> str:
    if not value:
        return DEFAULT_LOCALE
    try:
        return str(Locale.parse(value.replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        return DEFAULT_LOCALE


@lru_cache(maxsize=256)
def _locale(name: str) -> Locale | str:
    """Babel parses a locale name on every call given a string; templates format with a few locales."""
    try:
        return Locale.parse(name)
    except (UnknownLocaleError, ValueError, TypeError):
        return name  # Babel raises its own error for it, as before


def format_money(amount: Any, currency: str | None, locale: str = DEFAULT_LOCALE) -> str:
    """49.5, 'USD' -> '$49.50'; 1234, 'EUR' -> '€1,234.00'; an unknown code is written after the number."""
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return str(amount)
    code = (currency or "").upper()
    if not code:
        return f"{value:,.2f}"
    try:
        # A signalling NaN cannot be a cache key (hash() raises): it takes Babel's way, and its error.
        return _money(value, code, locale) if value.is_finite() else format_currency(value, code,
                                                                                      locale=_locale(locale))
    except (UnknownCurrencyError, ValueError, InvalidOperation):
        return f"{value} {code}" if not value.is_finite() else f"{value:,.2f} {code}"


@lru_cache(maxsize=4096)
def _money(value: Decimal, code: str, locale: str) -> str:
    """Fast path, "formatting memo": an amount is formatted once per currency and locale (Babel's
    format_currency was a third of an in-app render; a fan-out, or a burst of one invoice's events, formats the
    same amount for every recipient). Equal Decimals (49.5, 49.50) share an entry: both format to the
    currency's digits."""
    return format_currency(value, code, locale=_locale(locale))


def as_datetime(value: Any) -> datetime | None:
    """Any date-ish value as an aware datetime; naive values are UTC (the guide's utcnow())."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return as_datetime(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def _zone(zone: tzinfo | str | None) -> tzinfo:
    return _ZONE.get() if zone is None else as_zone(zone) or UTC_ZONE


def format_datetime(value: Any, locale: str = DEFAULT_LOCALE, zone: tzinfo | str | None = None) -> str:
    """A datetime as people read it, in the recipient's zone: 'November 24, 2026, 3:30 PM CET'. Naive values
    are UTC. `zone`: a zone or an IANA name; None: the recipient's being rendered for (recipient_zone)."""
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    try:
        moment = moment.astimezone(UTC)
        # The text shows the minute at most, so one formatting serves every moment of that minute (Babel is
        # slow). The key is the UTC minute and the zone: aware datetimes of one instant are equal in any zone.
        return _format_minute(moment.replace(second=0, microsecond=0), _zone(zone), locale)
    except OverflowError:  # near datetime's limits, a zone's offset leaves its range
        return str(value)


@lru_cache(maxsize=4096)
def _format_minute(moment: datetime, zone: tzinfo, locale: str) -> str:
    local = moment.astimezone(zone)
    babel_locale = _locale(locale)
    return (f"{_format_date(local, format='long', locale=babel_locale)}, "
            f"{_format_datetime(local, _time_pattern(babel_locale), locale=babel_locale)} {abbreviation(local)}")


@lru_cache(maxsize=256)
def _time_pattern(babel_locale: Locale | str) -> str:
    """English keeps '3:05 PM' (every English text showed it so); other languages their own short time: German,
    French and Spanish '15:05'. CLDR's narrow no-break space before a day period is written as a space."""
    if not isinstance(babel_locale, Locale) or babel_locale.language == "en":
        return "h:mm a"
    return str(get_time_format("short", locale=babel_locale).pattern).replace("\u202f", " ")


def format_date(value: Any, locale: str = DEFAULT_LOCALE, zone: tzinfo | str | None = None) -> str:
    """The day of a datetime in the recipient's zone (as format_datetime); a date without a time ("2026-12-24",
    a date) is shown as it is."""
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    if isinstance(value, datetime) or (isinstance(value, str) and len(value) > 10):
        with suppress(OverflowError):
            moment = moment.astimezone(_zone(zone))
    return _format_day(moment.date(), locale)


@lru_cache(maxsize=4096)
def _format_day(day: date, locale: str) -> str:
    """A day as people read it ('December 7, 2026'), once per day and locale ("formatting memo", above): Babel
    formats a datetime by its date anyway."""
    return _format_date(day, format="long", locale=_locale(locale))


@pass_context
def datetime_filter(context: Context, value: Any, locale: str | None = None) -> str:
    """The templates' `datetime` filter, in the zone of the context's recipient (its `timezone`)."""
    return format_datetime(value, locale or DEFAULT_LOCALE, context.get("timezone") or UTC_ZONE)


@pass_context
def date_filter(context: Context, value: Any, locale: str | None = None) -> str:
    """The templates' `date` filter (as datetime_filter)."""
    return format_date(value, locale or DEFAULT_LOCALE, context.get("timezone") or UTC_ZONE)


@lru_cache(maxsize=4096)
def format_duration(delta: timedelta, locale: str = DEFAULT_LOCALE) -> str:
    """'1 hour', '15 minutes'. Cached: a handler's expiries are mostly the same span after the event."""
    return format_timedelta(delta, granularity="minute", threshold=1.0, locale=_locale(locale))


def humanize_code(value: Any) -> str:
    """'insufficient_funds' -> 'insufficient funds'."""
    return "" if value is None else str(value).replace("_", " ").replace("-", " ").strip()
