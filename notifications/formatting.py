"""Locale-aware formatting of amounts and dates for templates (Babel)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.dates import format_datetime as _format_datetime
from babel.dates import format_timedelta
from babel.numbers import UnknownCurrencyError, format_currency

DEFAULT_LOCALE = "en_US"


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
        return format_currency(value, code, locale=_locale(locale))
    except (UnknownCurrencyError, ValueError):
        return f"{value:,.2f} {code}"


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


def format_datetime(value: Any, locale: str = DEFAULT_LOCALE) -> str:
    """A datetime as people read it: 'November 24, 2026 at 3:30 PM UTC'."""
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return str(value)
    # The text shows the minute at most, so one formatting serves every moment of that minute (Babel is slow).
    return _format_minute(moment.replace(second=0, microsecond=0), locale)


@lru_cache(maxsize=4096)
def _format_minute(moment: datetime, locale: str) -> str:
    babel_locale = _locale(locale)
    return (f"{_format_date(moment, format='long', locale=babel_locale)}, "
            f"{_format_datetime(moment, 'h:mm a', locale=babel_locale)} UTC")


def format_date(value: Any, locale: str = DEFAULT_LOCALE) -> str:
    moment = as_datetime(value)
    if moment is None:
        return "" if value is None else str(value)
    return _format_date(moment, format="long", locale=_locale(locale))


@lru_cache(maxsize=4096)
def format_duration(delta: timedelta, locale: str = DEFAULT_LOCALE) -> str:
    """'1 hour', '15 minutes'. Cached: a handler's expiries are mostly the same span after the event."""
    return format_timedelta(delta, granularity="minute", threshold=1.0, locale=_locale(locale))


def humanize_code(value: Any) -> str:
    """'insufficient_funds' -> 'insufficient funds'."""
    return "" if value is None else str(value).replace("_", " ").replace("-", " ").strip()
