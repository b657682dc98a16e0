"""The digest rule, in one place: which records are digested, what a window is, when it closes, what key it
has, and whether its first event goes at once. The mechanics (the window table, intake's upsert, the worker's
close) are in windows.py and closing.py; the tenant's setting is checked in settings.py.

    Tenant.settings["digests"][event_type][channel] = {
        "window_seconds": 600,              # a fixed window: from its first event, this long
        # or "schedule": {"daily": "09:00"} / {"weekly": "mon 09:00"}   (in the recipient's time zone)
        "key": ["content_id"],              # payload fields added to the key (default: recipient + event type)
        "first_at_once": true,              # the window's first event is sent at once, the rest digested
    }

1. A record is digested when its tenant has a rule for its event type and channel (the channel's own entry,
   else "*"), it is not skipped, and its event is not a critical one (2FA codes, password resets, security
   alerts are never held). A rate limit with "excess": "digest" digests the records over the limit instead of
   skipping them (window: the rule's per_seconds, no first-at-once).
2. The key: the tenant, channel, event type, recipient (user and address: each push device has its own), and
   the rule's payload fields (a missing field counts as empty). One window per key is open at a time.
3. A window opens with its first event and closes at `closes_at`: opened + window_seconds, or the schedule's
   next time after the opening, in the recipient's zone (Contact.timezone, else the tenant's
   settings["default_timezone"], else UTC; an unknown zone counts as blank).
4. An event joins the open window of its key if intake sees it before `closes_at` and before the window's close
   committed; otherwise it opens the next window. Never both, never neither.
5. Each window sends exactly one message: the digest, rendered from the digest template with `events` (the
   first 50) and `count` (all of them); a window that held one event sends that event's own message. With
   first_at_once the first event's record goes like any other (scheduling.timing: at once, or at its
   deliver_at/delay, held by quiet hours) and the digest holds the rest.
6. Quiet hours hold a digest: a digest record due inside the recipient's quiet hours for the channel (their
   window, in their zone: scheduling.quiet_hours) waits until they end (`quiet_release`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notifications.scheduling import quiet_hours, zones
from notifications.scheduling.quiet_hours import first_instant_at

DIGESTS = "digests"
WILDCARD = "*"
MAX_EVENTS_SHOWN = 50  # events a digest template sees; `count` says how many there were
MAX_KEY_FIELDS = 5
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC_ZONE = zones.UTC_ZONE


@dataclass(frozen=True, slots=True)
class DigestRule:
    kind: str  # "window", "schedule" or "rate_limit"
    seconds: int = 0  # window and rate_limit
    at: time | None = None  # schedule: the local time of day
    weekday: int | None = None  # schedule: 0 = Monday; None: daily
    key_fields: tuple[str, ...] = ()
    first_at_once: bool = False

    @property
    def needs_zone(self) -> bool:
        return self.kind == "schedule"

    def closes_at(self, opened: datetime, zone: ZoneInfo) -> datetime:
        """When a window opened at `opened` closes (aware, UTC). Instants are compared in UTC; a time the clock
        skips that night (02:30 when it jumps from 02:00 to 03:00) is the instant of the jump, a time it shows
        twice is the first showing later than the opening (scheduling.quiet_hours.first_instant_at)."""
        if self.at is None:
            return opened + timedelta(seconds=self.seconds)
        day = opened.astimezone(zone).date()
        minutes = self.at.hour * 60 + self.at.minute
        for _ in range(9):
            if self.weekday is None or day.weekday() == self.weekday:
                candidate = first_instant_at(day, minutes, zone, after=opened)
                if candidate > opened:
                    return candidate.astimezone(UTC_ZONE)
            day += timedelta(days=1)
        raise AssertionError("a daily or weekly time falls within nine days")  # pragma: no cover

    def key(self, tenant_id: str, channel: str, event_type: str, user_id: str, recipient: str,
            payload: Any) -> str:
        """The window key: what events share a window (see 2. above), hashed to a fixed length."""
        extra = [_field_text(payload, name) for name in self.key_fields]
        parts = [self.kind == "rate_limit", tenant_id, channel, event_type, user_id, recipient, *extra]
        return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()


def _field_text(payload: Any, name: str) -> str:
    value = payload.get(name) if isinstance(payload, dict) else None
    return "" if value is None else str(value)[:500]


def rule_from(entry: Any) -> DigestRule | None:
    """A stored rule, read defensively: what the settings check would refuse is no rule (never an error)."""
    if not isinstance(entry, dict):
        return None
    fields = entry.get("key", [])
    if not isinstance(fields, list) or len(fields) > MAX_KEY_FIELDS or not all(isinstance(f, str) for f in fields):
        return None
    first = entry.get("first_at_once") is True
    seconds, schedule = entry.get("window_seconds"), entry.get("schedule")
    if type(seconds) is int and seconds > 0 and schedule is None:
        return DigestRule("window", seconds=seconds, key_fields=tuple(fields), first_at_once=first)
    parsed = parse_schedule(schedule)
    if isinstance(parsed, tuple) and seconds is None:
        at, weekday = parsed
        return DigestRule("schedule", at=at, weekday=weekday, key_fields=tuple(fields), first_at_once=first)
    return None


def parse_schedule(schedule: Any) -> tuple[time, int | None] | str:
    """(time of day, weekday or None) of {"daily": "09:00"} or {"weekly": "mon 09:00"}, or why not."""
    if not isinstance(schedule, dict) or len(schedule) != 1:
        return 'must be {"daily": "HH:MM"} or {"weekly": "mon HH:MM"}'
    [(kind, value)] = schedule.items()
    if kind not in ("daily", "weekly") or not isinstance(value, str) or len(value) > 16:
        return 'must be {"daily": "HH:MM"} or {"weekly": "mon HH:MM"}'
    weekday = None
    text = value.strip().lower()
    if kind == "weekly":
        day, _, text = text.partition(" ")
        if day[:3] not in WEEKDAYS:
            return f"weekly needs a weekday ({', '.join(WEEKDAYS)}) then HH:MM, e.g. \"mon 09:00\""
        weekday = WEEKDAYS.index(day[:3])
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2 and int(hours) < 24 and int(minutes) < 60):
        return f"{kind} needs a time of day HH:MM (24-hour), e.g. \"09:00\""
    return time(int(hours), int(minutes)), weekday


def digest_rule(settings: Any, event_type: str, channel: str) -> DigestRule | None:
    """The tenant's digest rule for (event type, channel): the channel's entry, else "*"."""
    config = settings.get(DIGESTS) if isinstance(settings, dict) else None
    entry = config.get(event_type) if isinstance(config, dict) else None
    if not isinstance(entry, dict):
        return None
    return rule_from(entry.get(channel, entry.get(WILDCARD)))


DIGEST_SUFFIX = "_digest"
#: What a digest template sees besides the event type's own placeholders (digests/render.py).
DIGEST_PLACEHOLDERS = frozenset({"events", "count", "others"})


def digest_template_name(event_type: str, channel: str) -> str:
    """The name of a tenant's digest template: content.liked on push -> content_liked_push_digest."""
    return f"{event_type.replace('.', '_')}_{channel}{DIGEST_SUFFIX}"


def rate_limit_rule(per_seconds: int) -> DigestRule:
    """The window a rate limit's excess is digested in ("excess": "digest")."""
    return DigestRule("rate_limit", seconds=per_seconds)


def recipient_zone(zone_name: Any, settings: Any) -> ZoneInfo:
    """The contact's zone, else the tenant's default_timezone, else UTC (scheduling.zones.contact_zone: the same
    zone quiet hours are read in)."""
    return zones.contact_zone({"timezone": zone_name}, settings)


def quiet_release(settings: Any, contact: Mapping[str, Any], channel: str, at: datetime) -> datetime | None:
    """When a digest record due at `at` may go if that is inside the recipient's quiet hours for `channel` (the
    contact's own window, else the tenant's; in their zone), else None. `contact` has the Contact's
    `quiet_hours` and `timezone` (intake's contact, or the row the sweep reads)."""
    settings = settings if isinstance(settings, dict) else {}
    window = quiet_hours.for_recipient(contact.get(quiet_hours.SETTING),
                                       quiet_hours.read_window(settings.get(quiet_hours.SETTING)))
    if window is None or not window.covers(channel):
        return None
    return window.release(at, recipient_zone(contact.get("timezone"), settings))
