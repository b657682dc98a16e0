"""When a planned record goes: the rule, in one place.

1. The event's own time: `deliver_at` or `delay` in its envelope (read by scheduling.parse; a time in the past
   means at once, one past the horizon is refused at validation).
2. Else the tenant's default delay for the event type and channel (settings["default_delays"], the channel's
   own entry before "*").
3. Else at once.

Critical notifications (handlers marked `mandatory`, such as 2FA codes and password resets, or
`security_alert`, such as login alerts) are never delayed unless the tenant allows it
(settings["allow_delaying_security"]): an event asking for a delay is refused with the reason, and a tenant's
default delay for such a type does not apply.

A record due later is written `scheduled` with its due time as `next_attempt_at` and `reason` "scheduled"; the
workers claim it once due like any pending record (in-app ones too: the inbox row is written then)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from notifications.enums import RejectionReason, WaitReason
from notifications.events.envelope import EventRejection, ValidatedEvent
from notifications.scheduling.parse import horizon
from notifications.tenants.limits import WILDCARD

if TYPE_CHECKING:
    from notifications.tenants.models import Tenant

DEFAULT_DELAYS = "default_delays"
_SCHEDULED = WaitReason.SCHEDULED.value
ALLOW_DELAYING_SECURITY = "allow_delaying_security"


def is_critical(event: ValidatedEvent) -> bool:
    """Notifications that always go at once unless the tenant says otherwise."""
    return bool(event.handler.mandatory or event.handler.security_alert)


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


class Timing:
    """Due times of a batch's records. The tenant's default delays are read once per (tenant, event type,
    channel)."""

    def __init__(self, tenants: Mapping[str, Tenant], now: datetime) -> None:
        self.tenants, self.now = tenants, now
        self._defaults: dict[tuple[str, str, str], timedelta | None] = {}

    def due(self, event: ValidatedEvent, channel: str, contact: Mapping[str, Any]) -> tuple[datetime, str] | None:
        """When the record of `event` on `channel` to the user of `contact` goes, and why it waits then
        (a WaitReason); None: at once."""
        if event.deliver_at is not None:
            return event.deliver_at, _SCHEDULED  # refused at intake already when the tenant does not allow it
        key = (event.tenant_id, event.event_type, channel)
        try:
            delay = self._defaults[key]
        except KeyError:
            delay = self._defaults[key] = self._default_delay(event, channel)
        return (self.now + delay, _SCHEDULED) if delay else None

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
