"""Quiet hours: the rule, in one place.

A window is a span of the recipient's local day, `{"start": "22:00", "end": "07:00"}` (HH:MM, 24-hour clock;
start later than end wraps midnight), with an optional `"channels": ["push", "sms"]`. Without `channels` it
covers every channel but in_app: an in-app message waits silently in the inbox and disturbs no one.

Whose window:
1. The user's own (Contact.quiet_hours) replaces the tenant's; `{"off": true}` means none at all, whatever the
   tenant's; `{}` (the default) means the tenant's.
2. Else the tenant's (settings["quiet_hours"]).
Times are read in the recipient's zone (scheduling.zones: the contact's, the tenant's default, UTC).

What it does (scheduling.timing calls `release`): a record that would go, at once or at its scheduled time,
inside the window is held until the window ends. Critical notifications (2FA codes, password resets, security
alerts: timing.is_critical) are never held. The window is [start, end): at 07:00 it is over.

Daylight-saving time: the window follows the local clock, so a 22:00-07:00 night is 8 hours long when the
clocks go forward and 10 when they go back. An end that does not exist that night (02:30 when the clock jumps
from 02:00 to 03:00) is the first instant after the jump (03:00 local). An end that happens twice (01:30 when
the clock goes back from 02:00 to 01:00) is the first of the two that is later than the record's time: the
earlier one (fold=0) unless the record's time is already past it.

Stored windows are read defensively: one written around the checks (`window_problems`) counts as no window of
its own (a user's falls back to the tenant's), never a failure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

#: The setting's keys (Tenant.settings["quiet_hours"], Contact.quiet_hours).
SETTING = "quiet_hours"
START, END, CHANNELS, OFF = "start", "end", "channels", "off"
_KEYS = frozenset({START, END, CHANNELS, OFF})
#: Channels a window without "channels" leaves alone.
NEVER_BY_DEFAULT = frozenset({"in_app"})
_CLOCK = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")
EXAMPLE = '{"start": "22:00", "end": "07:00", "channels": ["push", "sms"]}'


@dataclass(frozen=True, slots=True)
class QuietHours:
    start: int  # minutes after local midnight
    end: int
    channels: frozenset[str] | None  # None: every channel but NEVER_BY_DEFAULT

    def covers(self, channel: str) -> bool:
        return channel not in NEVER_BY_DEFAULT if self.channels is None else channel in self.channels

    def release(self, at: datetime, zone: ZoneInfo) -> datetime | None:
        """When a record due at `at` may go: the end of the window `at` falls in (in UTC), or None when `at` is
        outside the window."""
        local = at.astimezone(zone)
        minute = local.hour * 60 + local.minute
        day = local.date()
        if self.start < self.end:
            if not self.start <= minute < self.end:
                return None
        elif minute >= self.start:
            day += timedelta(days=1)  # the window wraps midnight: it ends tomorrow morning
        elif minute >= self.end:
            return None
        return first_instant_at(day, self.end, zone, after=at)


def first_instant_at(day: date, minutes: int, zone: ZoneInfo, after: datetime) -> datetime:
    """The first instant later than `after` at which the local clock of `zone` reads `minutes` on `day` (UTC).
    A time the clock skips resolves to the instant of the jump; a time it shows twice to the first showing later
    than `after`."""
    wall = datetime.combine(day, time(minutes // 60, minutes % 60))
    first, second = (wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))
    if first.astimezone(zone).replace(tzinfo=None) != wall:
        return _jump(wall, min(first, second), max(first, second), zone)
    return first if first > after or second <= first else second


def _jump(wall: datetime, low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The instant the clock of `zone` jumps over `wall`: the first second in [low, high] whose local time is
    past `wall` (a binary search over at most a day of seconds, for the one night a year that needs it)."""
    lo, hi = 0, int((high - low).total_seconds())
    while lo < hi:
        middle = (lo + hi) // 2
        if (low + timedelta(seconds=middle)).astimezone(zone).replace(tzinfo=None) > wall:
            hi = middle
        else:
            lo = middle + 1
    return low + timedelta(seconds=lo)


def _minutes(text: str) -> int:
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise ValueError(text)
    return int(match[1]) * 60 + int(match[2])


def read_window(value: Any) -> QuietHours | None:
    """A stored window, or None: none set, switched off, or not a window (stored around the checks)."""
    if (not isinstance(value, dict) or START not in value or value.get(OFF) is True
            or window_problems(value)):
        return None
    channels = value.get(CHANNELS)
    return QuietHours(_minutes(value[START]), _minutes(value[END]),
                      None if channels is None else frozenset(channels))


def for_recipient(own: Any, tenant_window: QuietHours | None) -> QuietHours | None:
    """The window that applies to a user: their own replaces the tenant's; {"off": true} is none at all."""
    if isinstance(own, dict) and own:
        if own.get(OFF) is True:
            return None
        window = read_window(own)
        if window is not None:
            return window
    return tenant_window


def window_problems(value: Any, where: str = SETTING) -> dict[str, str]:
    """Problems of a window by key ('quiet_hours.start': 'must be HH:MM ...'); empty when it is one, or
    {} (none set), or {"off": true}."""
    from notifications.channels.spec import CHANNEL_SPECS

    if not isinstance(value, dict):
        return {where: f"must be an object such as {EXAMPLE}, or {{}} for none"}
    if not value:
        return {}
    unknown = sorted(str(key)[:32] for key in value if key not in _KEYS)
    if unknown:
        return {where: f"unknown key(s) {', '.join(unknown)}: a window has start, end, channels (or off)"}
    problems: dict[str, str] = {}
    if OFF in value:
        off = value[OFF]
        if type(off) is not bool:
            problems[f"{where}.{OFF}"] = "must be true or false"
        elif off and len(value) > 1:
            problems[f"{where}.{OFF}"] = "true means no quiet hours: give it alone"
        if off is True or len(value) == 1:
            return problems  # {"off": false} alone: the tenant's, as {}
    clock = {}
    for key in (START, END):
        text = value.get(key)
        if text is None:
            problems[f"{where}.{key}"] = "is required: HH:MM, e.g. 22:00"
        elif not isinstance(text, str) or not _CLOCK.fullmatch(text):
            problems[f"{where}.{key}"] = "must be HH:MM (00:00 to 23:59), e.g. 22:00"
        else:
            clock[key] = _minutes(text)
    if len(clock) == 2 and clock[START] == clock[END]:
        problems[f"{where}.{END}"] = "must differ from start (the window would be empty)"
    if CHANNELS in value:
        channels = value[CHANNELS]
        known = set(CHANNEL_SPECS)
        if not isinstance(channels, list) or not channels or len(channels) > len(known):
            problems[f"{where}.{CHANNELS}"] = f"must be a list of channels ({', '.join(sorted(known))})"
        else:
            bad = sorted({str(channel)[:32] for channel in channels
                          if not isinstance(channel, str) or channel not in known})
            if bad:
                problems[f"{where}.{CHANNELS}"] = (f"unknown channel(s) {', '.join(bad)}: use "
                                                   f"{', '.join(sorted(known))}")
    return problems
