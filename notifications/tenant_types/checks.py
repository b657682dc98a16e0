"""Tenant definitions a handler in code now serves: a deploy registered a handler (built-in or the host's) of a
name a tenant had defined. The handler wins (the registry looks it up first); `check_setup` names each one."""

from __future__ import annotations

from notifications.events.registry import EventRegistry
from notifications.tenant_types.models import TenantEventType


def shadowed_definitions(registry: EventRegistry) -> list[str]:
    """One line per active tenant definition whose name a handler in code serves."""
    found = []
    for tenant_id, name in TenantEventType.objects.filter(is_active=True).values_list("tenant_id", "name"):
        handler = registry.get_handler(name)  # no tenant: handlers in code only
        if handler is not None:
            found.append(f"tenant {tenant_id}'s event type {name} is served by the handler {type(handler).__name__}, "
                         "which wins: its events no longer use the tenant's definition (rename one of them)")
    return found
