"""When a planned record goes: the rule, in one place.

1. The event's own time: `deliver_at` or `delay` in its envelope (read by scheduling.parse; a time in the past
   means at once, one past the horizon is refused at validation).
2. Else the tenant's default delay for the event type and channel (settings["default_delays"], the channel's
   own entry before "*").
   A tenant's rule's delay (notifications/rules) takes the default delay's place.
3. Else at once.
4. Quiet hours (scheduling/quiet_hours.py): if the time from 1-3 falls inside the recipient's quiet hours, in
   their time zone (scheduling/zones.py), the record is held until the window ends.

Critical notifications (handlers marked `mandatory`, such as 2FA codes and password resets, or
`security_alert`, such as login alerts) are never delayed unless the tenant allows it
(settings["allow_delaying_security"]): an event asking for a delay is refused with the reason, and a tenant's
default delay for such a type does not apply. They are never held by quiet hours.

A record due later is written `scheduled` with its due time as `next_attempt_at` and `reason` "scheduled" (or
"held_quiet_hours" when quiet hours hold it); the workers claim it once due like any pending record (in-app ones
too: the inbox row is written then)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from notifications.enums import RejectionReason, WaitReason
from notifications.events.envelope import EventRejection, ValidatedEvent
from notifications.scheduling import quiet_hours
from notifications.scheduling.parse import horizon
from notifications.scheduling.quiet_hours import QuietHours
from notifications.scheduling.zones import contact_zone
from notifications.tenants.limits import WILDCARD

if TYPE_CHECKING:
    from notifications.tenants.models import Tenant

DEFAULT_DELAYS = "default_delays"
_SCHEDULED, _HELD = WaitReason.SCHEDULED.value, WaitReason.HELD_QUIET_HOURS.value
ALLOW_DELAYING_SECURITY = "allow_delaying_security"


def is_critical(event: ValidatedEvent) -> bool:
    """Notifications that always go at once unless the tenant says otherwise."""
    return event.handler.critical


def may_delay(tenant: Tenant, event: ValidatedEvent) -> bool:
    return not is_critical(event) or tenant.settings.get(ALLOW_DELAYING_SECURITY) is True


def refuse_delayed_critical(valid: list[tuple[int, ValidatedEvent]], tenants: Mapping[str, Tenant],
                            ) -> tuple[list[tuple[int, ValidatedEvent]], list[tuple[int, EventRejection]]]:
    """(events to take in, rejections): a critical event that asks for a time of its own is refused, with the
    reason, unless its tenant allows delaying them."""
    if not any(event.deliver_at is not None for _, event in valid):
        return valid, []
    kept, refused = [], []
    for index, event in valid:
        if event.deliver_at is not None and not may_delay(tenants[event.tenant_id], event):
            refused.append((index, EventRejection(
                RejectionReason.INVALID_FIELD,
                f"{event.event_type} is a security notification and is sent at once: deliver_at and delay are "
                f"refused unless the tenant sets settings.{ALLOW_DELAYING_SECURITY}",
                event.raw, tenant_id=event.tenant_id, event_type=event.event_type)))
        else:
            kept.append((index, event))
    return kept, refused


class _Quiet:
    """A recipient's quiet hours in their zone, and when a record due now would go (worked out once)."""

    __slots__ = ("now_release", "window", "zone")

    def __init__(self, window: QuietHours, zone: ZoneInfo, now: datetime) -> None:
        self.window, self.zone = window, zone
        self.now_release = window.release(now, zone)


class Timing:
    """Due times of a batch's records. The tenant's default delays are read once per (tenant, event type,
    channel); quiet hours once per tenant, once per recipient (their zone and window) when there are any, and a
    window's end once per (window, zone). A tenant without quiet hours whose users set none costs two dict
    look-ups per record."""

    def __init__(self, tenants: Mapping[str, Tenant], now: datetime) -> None:
        self.tenants, self.now = tenants, now
        self._defaults: dict[tuple[str, str, str], timedelta | None] = {}
        self._tenant_quiet: dict[str, QuietHours | None] = {}
        self._recipients: dict[tuple[str, str, Any], _Quiet | None] = {}
        self._shared: dict[tuple[QuietHours, ZoneInfo], _Quiet] = {}

    def due(self, event: ValidatedEvent, channel: str, contact: Mapping[str, Any],
            rule_delay: timedelta | None = None) -> tuple[datetime, str] | None:
        """When the record of `event` on `channel` to the user of `contact` goes, and why it waits then
        (a WaitReason); None: at once. `rule_delay`: a tenant's rule's delay (notifications/rules), in place of
        the tenant's default delay, and like it ignored for a critical event the tenant does not allow delaying."""
        due: tuple[datetime, str] | None
        if event.deliver_at is not None:
            due = event.deliver_at, _SCHEDULED  # refused at intake already when the tenant does not allow it
        elif rule_delay is not None and may_delay(self.tenants[event.tenant_id], event):
            due = self.now + rule_delay, _SCHEDULED
        else:
            key = (event.tenant_id, event.event_type, channel)
            try:
                delay = self._defaults[key]
            except KeyError:
                delay = self._defaults[key] = self._default_delay(event, channel)
            due = (self.now + delay, _SCHEDULED) if delay else None
        tenant_id = event.tenant_id
        try:
            tenant_window = self._tenant_quiet[tenant_id]
        except KeyError:
            tenant_window = self._tenant_quiet[tenant_id] = quiet_hours.read_window(
                self.tenants[tenant_id].settings.get(quiet_hours.SETTING))
        own = contact.get(quiet_hours.SETTING)
        if (tenant_window is None and not own) or is_critical(event):
            return due
        quiet = self._quiet(event, contact, own, tenant_window)
        if quiet is None or not quiet.window.covers(channel):
            return due
        release = quiet.now_release if due is None else quiet.window.release(due[0], quiet.zone)
        return due if release is None else (release, _HELD)

    def _quiet(self, event: ValidatedEvent, contact: Mapping[str, Any], own: Any,
               tenant_window: QuietHours | None) -> _Quiet | None:
        """The recipient's window and zone, once per batch (keyed by their zone too: an event may carry one)."""
        key = (event.tenant_id, event.user_id, contact.get("timezone"))
        try:
            return self._recipients[key]
        except KeyError:
            pass
        window = quiet_hours.for_recipient(own, tenant_window)
        quiet = None
        if window is not None:
            settings = self.tenants[event.tenant_id].settings
            zone = contact_zone(contact, settings)
            # Recipients share windows (the tenant's) and zones: the window's end is worked out once for each.
            quiet = self._shared.get((window, zone))
            if quiet is None:
                quiet = self._shared[(window, zone)] = _Quiet(window, zone, self.now)
        self._recipients[key] = quiet
        return quiet

    def _default_delay(self, event: ValidatedEvent, channel: str) -> timedelta | None:
        tenant = self.tenants[event.tenant_id]
        delays = tenant.settings.get(DEFAULT_DELAYS)
        if not delays or not may_delay(tenant, event):
            return None
        return default_delay(delays, event.event_type, channel)


def default_delay(delays: Any, event_type: str, channel: str) -> timedelta | None:
    """A tenant's default delay for (event type, channel) from its stored setting, read defensively: a value
    stored around the API's checks is ignored, never a failure."""
    if not isinstance(delays, dict):
        return None
    entry = delays.get(event_type)
    if not isinstance(entry, dict):
        return None
    seconds = entry.get(channel, entry.get(WILDCARD))
    if type(seconds) is not int or seconds <= 0:
        return None
    limit = horizon()
    return limit if seconds >= limit.total_seconds() else timedelta(seconds=seconds)
