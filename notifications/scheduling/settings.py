"""The check of a tenant's delay settings that needs the event types' handlers: a default delay for a
security notification (2FA codes, password resets, login alerts) is refused unless the tenant allows
delaying them. The API's settings endpoint and the admin run it after Tenant.clean() (tenants.limits checks
the shape and ranges; it cannot read the registry without an import cycle)."""

from __future__ import annotations

from typing import Any

from notifications.events.registry import event_registry
from notifications.scheduling.timing import ALLOW_DELAYING_SECURITY, DEFAULT_DELAYS


def critical_delay_problems(settings: Any) -> dict[str, str]:
    if not isinstance(settings, dict) or settings.get(ALLOW_DELAYING_SECURITY) is True:
        return {}
    delays = settings.get(DEFAULT_DELAYS)
    if not isinstance(delays, dict):
        return {}
    problems = {}
    for event_type in delays:
        handler = event_registry.get_handler(event_type) if isinstance(event_type, str) else None
        if handler is not None and handler.critical:
            problems[f"{DEFAULT_DELAYS}[{event_type!r}]"] = (
                f"{event_type} is a security notification and is sent at once; set {ALLOW_DELAYING_SECURITY} "
                "to delay it")
    return problems
