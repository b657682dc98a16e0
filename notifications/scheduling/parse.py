"""Reading a requested time: an event's `deliver_at` (ISO 8601 with an offset) or `delay` (an ISO 8601 duration
such as "PT10M", or seconds). Every problem is a text naming the field, never an exception."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_duration

from notifications.conf import get_setting

DEFAULT_HORIZON_DAYS = 90
MAX_TEXT = 64  # longer than any ISO 8601 date-time or duration a producer writes


def horizon() -> timedelta:
    """How far ahead a notification may be scheduled: NOTIFICATIONS["SCHEDULE_HORIZON_DAYS"] (default 90)."""
    return timedelta(days=float(get_setting("SCHEDULE_HORIZON_DAYS", DEFAULT_HORIZON_DAYS)))


def parse_deliver_at(value: Any) -> tuple[datetime | None, str | None]:
    """(an aware datetime, None) or (None, why not)."""
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        return None, "deliver_at must be an ISO 8601 date-time with an offset, e.g. 2026-12-24T18:00:00+01:00"
    try:
        moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        return None, "deliver_at is not an ISO 8601 date-time, e.g. 2026-12-24T18:00:00+01:00"
    if moment.tzinfo is None or moment.utcoffset() is None:
        return None, "deliver_at needs an offset (+01:00 or Z): a local time without one is ambiguous"
    return moment, None


def parse_delay(value: Any) -> tuple[timedelta | None, str | None]:
    """(a non-negative timedelta, None) or (None, why not). Seconds as a number, or an ISO 8601 duration."""
    if isinstance(value, bool):
        return None, "delay must be seconds or an ISO 8601 duration such as PT10M"
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            return None, "delay must be zero or more seconds"
        if value > horizon().total_seconds():
            return None, _beyond()
        return timedelta(seconds=value), None
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        return None, "delay must be seconds or an ISO 8601 duration such as PT10M"
    try:
        # Django reads "P" and "PT" as zero: an ISO 8601 duration names at least one number.
        iso = value.lstrip("-").startswith("P") and any(char.isdigit() for char in value)
        parsed = parse_duration(value) if iso else None
    except (ValueError, OverflowError):
        parsed = None
    if parsed is None:
        return None, "delay is not an ISO 8601 duration such as PT10M or P1DT2H"
    if parsed < timedelta(0):
        return None, "delay must not be negative"
    if parsed > horizon():
        return None, _beyond()
    return parsed, None


def requested_time(deliver_at: Any, delay: Any, now: datetime) -> tuple[datetime | None, str | None]:
    """The time an event asks for (None: at once), or why it is refused. Only one of the two may be given; a
    time in the past means at once; one beyond the horizon is refused."""
    if deliver_at is not None and delay is not None:
        return None, "give deliver_at or delay, not both"
    if deliver_at is not None:
        moment, problem = parse_deliver_at(deliver_at)
    else:
        wait, problem = parse_delay(delay)
        moment = now + wait if wait is not None and problem is None else None
    if problem is not None or moment is None:
        return None, problem
    try:
        if moment - now > horizon():
            return None, _beyond()
    except OverflowError:
        return None, _beyond()
    return (moment.astimezone(UTC) if moment > now else None), None


def _beyond() -> str:
    return f"the requested time is more than {horizon().days} days ahead (the scheduling horizon)"
