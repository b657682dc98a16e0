"""Recipients' time zones: IANA names (`Europe/Berlin`) checked against the zone database, and the zone a
recipient's times are shown and their quiet hours read in.

Fallback order: the contact's own zone (Contact.timezone, filled by the API, the admin and registration
payloads), the tenant's default (settings["default_timezone"]), UTC. A name that is not a zone (one stored
around the checks) is passed over like a blank one, never an error. Zone objects are made once per name and
process (lru_cache): intake asks for them per recipient."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

#: Contact.timezone's column; the longest IANA name is 32 characters.
ZONE_LENGTH = 64
UTC_ZONE = ZoneInfo("UTC")
EXAMPLE = "an IANA time zone such as Europe/Berlin or America/New_York"


@lru_cache(maxsize=1)
def _names() -> dict[str, str]:
    """Every zone the database knows, by its name in lower case (read once: ~0.1 s)."""
    return {name.lower(): name for name in available_timezones()}


def canonical_zone(value: Any) -> str | None:
    """The IANA name `value` spells, in its own case ('europe/berlin' -> 'Europe/Berlin'), or None. Only names
    of the zone database are looked up: nothing else reaches the file system."""
    if not isinstance(value, str) or not value or len(value) > ZONE_LENGTH:
        return None
    return _names().get(value.strip().lower())


def zone_problem(value: Any) -> str | None:
    """Why `value` is not a time zone name (blank is fine: the fallback), or None."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return f"must be {EXAMPLE}"
    if canonical_zone(value) is None:
        shown = value if len(value) <= ZONE_LENGTH else f"{value[:ZONE_LENGTH]}..."
        return f"unknown time zone {shown!r}: use {EXAMPLE}"
    return None


@lru_cache(maxsize=1024)
def _zone(name: str) -> ZoneInfo | None:
    canonical = canonical_zone(name)
    return ZoneInfo(canonical) if canonical else None


def zone_named(value: Any) -> ZoneInfo | None:
    """The zone of a stored name; None for a blank one or one the database does not know."""
    if not isinstance(value, str) or not value or len(value) > ZONE_LENGTH:
        return None
    return _zone(value)


def recipient_zone(own: Any, default: Any = None) -> ZoneInfo:
    """The zone of a recipient: their own, else the tenant's default, else UTC."""
    return zone_named(own) or zone_named(default) or UTC_ZONE


DEFAULT_TIMEZONE = "default_timezone"  # the tenant setting


def contact_zone(contact: Mapping[str, Any], settings: Any) -> ZoneInfo:
    """recipient_zone of a contact (its `timezone`) and a tenant's settings (`default_timezone`, read
    defensively: settings stored around the checks may be anything)."""
    default = settings.get(DEFAULT_TIMEZONE) if isinstance(settings, dict) else None
    return recipient_zone(contact.get("timezone"), default)


def abbreviation(moment: datetime) -> str:
    """The zone of an aware local time as people write it after a time: CET, CEST, EST, UTC; a zone without
    letters for it (Asia/Dubai's "+04") as UTC+04."""
    name = moment.tzname() or "UTC"
    return name if name[:1].isalpha() else f"UTC{name}"


def as_zone(value: tzinfo | str | None) -> tzinfo | None:
    """A zone given as a name or a zone object (formatting takes both); None for blank or unknown names."""
    if value is None or isinstance(value, tzinfo):
        return value
    return zone_named(value)


def checked_zone(value: Any) -> str:
    """A validator's step (the API's schemas, registration payloads): a zone name in its own spelling, blank
    for none; ValueError naming the problem otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return ""
    problem = zone_problem(value)
    if problem:
        raise ValueError(problem)
    return canonical_zone(value) or ""
