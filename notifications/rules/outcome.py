"""What a tenant's rules did to one event: the rules that matched and their actions folded into one answer
(README.md says how they fold), and the route a record carries to the delivery worker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

#: A record's `route` column: JSON text {"provider": label, "template": name}, written only when a rule sets one.
ROUTE_PROVIDER, ROUTE_TEMPLATE = "provider", "template"
MAX_ROUTE = 300


@dataclass(slots=True)
class Outcome:
    matched: list[str] = field(default_factory=list)
    add: list[str] = field(default_factory=list)
    remove: set[str] = field(default_factory=set)
    skip: tuple[str, str] | None = None  # (rule name, reason): the first rule that skips
    lane: int | None = None
    delay: timedelta | None = None
    delay_rule: str = ""
    provider: dict[str, str] = field(default_factory=dict)
    template: dict[str, str] = field(default_factory=dict)

    def channels(self, channels: Any, mandatory: bool) -> list[Any]:
        """The event's channels after the rules: removals first, then additions in rule order. A mandatory
        event's channels are never removed (a rule cannot take a 2FA code away)."""
        kept = list(channels)
        if self.remove and not mandatory:
            kept = [channel for channel in kept if str(channel) not in self.remove]
        present = {str(channel) for channel in kept}
        for channel in self.add:
            if channel not in present:
                kept.append(channel)
                present.add(channel)
        return kept

    def skip_detail(self) -> str:
        """A skipped record's error_detail: which rule skipped it, and why (the rule's reason)."""
        name, reason = self.skip or ("", "")
        return f"rule {name!r}: {reason}"[:500]

    def route(self, channel: str) -> str | None:
        """The route column's text for this channel's records, or None when no rule set one."""
        provider, template = self.provider.get(channel), self.template.get(channel)
        if provider is None and template is None:
            return None
        route = {}
        if provider is not None:
            route[ROUTE_PROVIDER] = provider
        if template is not None:
            route[ROUTE_TEMPLATE] = template
        return json.dumps(route, separators=(",", ":"))[:MAX_ROUTE]


def read_route(text: str | None) -> dict[str, str]:
    """A record's route column read back (delivery): {} when none, or when it is not what routes write."""
    if not text:
        return {}
    try:
        route = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(route, dict):
        return {}
    return {key: value for key, value in route.items()
            if key in (ROUTE_PROVIDER, ROUTE_TEMPLATE) and isinstance(value, str)}
