"""Times taken from API query strings and bodies, made ones the database can store."""

from __future__ import annotations

from datetime import UTC, datetime

from ninja.errors import HttpError


def bounded_time(moment: datetime, name: str) -> datetime:
    """A time filter the database can take: aware, in UTC, between 1970 and 9000 (422 naming `name` otherwise)."""
    try:
        moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    except (OverflowError, ValueError) as err:
        raise HttpError(422, f"{name} is out of range") from err
    if not 1970 <= moment.year <= 9000:
        raise HttpError(422, f"{name} must be between 1970 and 9000")
    return moment
