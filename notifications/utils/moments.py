"""Times given to management commands (`--since 2026-12-01T00:00:00Z`): ISO 8601 with a zone offset, or a clear
error naming the option."""

from __future__ import annotations

from datetime import datetime

from django.core.management.base import CommandError
from django.utils.dateparse import parse_datetime


def command_moment(value: str, name: str) -> datetime:
    try:
        moment = parse_datetime(value)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--{name} must be an ISO 8601 date-time such as 2026-12-01T00:00:00Z, not {value!r}")
    if moment.tzinfo is None:
        raise CommandError(f"--{name} must carry a time zone offset (Z or +01:00): {value!r}")
    return moment
