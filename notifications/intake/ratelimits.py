"""Per-user limits per event type and channel, configured per tenant:

    Tenant.settings["rate_limits"] = {"content.liked": {"push": {"limit": 10, "per_seconds": 3600}}}

('*' as channel covers all channels of that event type.) Records beyond the limit are skipped with reason
`rate_limited`, or, with "excess": "digest" in the rule, digested: held in a window of per_seconds and sent as
one digest (notifications/digests). Handlers marked mandatory (password reset, 2FA codes) are never limited. One
query per batch: the users' recent non-skipped records of the limited types (those marked `rate_counted` when
planned), through their own index by user."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.utils import timezone

import notifications.db  # noqa: F401 - registers the `any` lookup
from notifications.db.plans import BY_KEY, plan_settings
from notifications.delivery.models import NotificationRecord
from notifications.enums import Status
from notifications.tenants.limits import EXCESS_DIGEST, clamped_rule
from notifications.tenants.models import WILDCARD, Tenant


def _config_of(tenant: Tenant, event_type: str) -> dict[str, Any]:
    limits = tenant.settings.get("rate_limits") if isinstance(tenant.settings, dict) else None
    config = limits.get(event_type) if isinstance(limits, dict) else None
    return config if isinstance(config, dict) else {}


def _rules_of(tenant: Tenant, event_type: str) -> dict[str, tuple[int, int]]:
    """The tenant's rules for this event type as {channel: (limit, per_seconds)}, each pulled into the documented
    range (notifications.tenants.limits): whatever the stored settings hold, reading them never raises."""
    config = _config_of(tenant, event_type)
    return {channel: rule for channel, rule in ((c, clamped_rule(r)) for c, r in config.items()) if rule}


def _digested_of(tenant: Tenant, event_type: str) -> set[str]:
    """The channels (or "*") whose rule digests the excess instead of skipping it."""
    return {channel for channel, rule in _config_of(tenant, event_type).items()
            if isinstance(rule, dict) and rule.get("excess") == EXCESS_DIGEST}


class RateLimiter:
    def __init__(self, rules: dict[tuple[str, str], dict[str, tuple[int, int]]],
                 history: dict[tuple[str, str, str, str], list[Any]],
                 digested: dict[tuple[str, str], set[str]] | None = None) -> None:
        self._rules = rules
        self._history = history
        self._digested = digested or {}
        self._now = timezone.now()

    @classmethod
    def load(cls, tenants: Mapping[str, Tenant], keys: Iterable[tuple[str, str, str]]) -> RateLimiter:
        rules: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}
        digested: dict[tuple[str, str], set[str]] = {}
        wanted: set[tuple[str, str, str]] = set()
        longest = 0
        read: dict[tuple[str, str], dict[str, tuple[int, int]]] = {}  # a tenant's rules, read once per event type
        for tenant_id, user_id, event_type in keys:
            pair = (tenant_id, event_type)
            config = read.get(pair)
            if config is None:
                config = read[pair] = _rules_of(tenants[tenant_id], event_type)
                if config:
                    rules[pair] = config
                    digested[pair] = _digested_of(tenants[tenant_id], event_type)
                    longest = max([longest, *(seconds for _, seconds in config.values())])
            if config and user_id:
                wanted.add((tenant_id, user_id, event_type))
        history: dict[tuple[str, str, str, str], list[Any]] = defaultdict(list)
        if wanted:
            # The records the rules count (marked by the planner, `covers`), through their own index by user
            # (record_rate_counted_idx, migration 0022), whatever a young partition's statistics say (BY_KEY).
            query = NotificationRecord.objects.filter(
                rate_counted=True,
                tenant_id__any={t for t, _, _ in wanted},
                user_id__any={u for _, u, _ in wanted},
                event_type__any={e for _, _, e in wanted},
                created_at__gte=timezone.now() - timedelta(seconds=longest),
            ).exclude(status=Status.SKIPPED).order_by().values_list(
                "tenant_id", "user_id", "event_type", "channel", "event_id", "created_at"
            )
            with plan_settings(**BY_KEY):
                rows = list(query)
            seen: set[tuple[Any, ...]] = set()
            for tenant_id, user_id, event_type, channel, event_id, created in rows:
                key = (tenant_id, user_id, event_type, channel)
                # One event counts once, however many devices it went to.
                if (tenant_id, user_id, event_type) in wanted and (key, event_id) not in seen:
                    seen.add((key, event_id))
                    history[key].append(created)
        return cls(rules, history, digested)

    def covers(self, tenant_id: str, event_type: str) -> bool:
        """Whether a rule of the tenant counts this event type's records: the planner marks them (`rate_counted`),
        and only marked records are read back as a window's history (a rule counts from when it is set)."""
        return (tenant_id, event_type) in self._rules

    def allow(self, tenant_id: str, user_id: str, event_type: str, channel: str) -> bool:
        config = self._rules.get((tenant_id, event_type))
        if not config or not user_id:
            return True
        rule = config.get(channel) or config.get(WILDCARD)
        if not rule:
            return True
        limit, seconds = rule
        since = self._now - timedelta(seconds=seconds)
        key = (tenant_id, user_id, event_type, channel)
        recent = [moment for moment in self._history[key] if moment >= since]
        if len(recent) >= limit:
            return False
        self._history[key].append(self._now)
        return True

    def digest_excess(self, tenant_id: str, event_type: str, channel: str) -> int:
        """For a record `allow` refused: the rule's per_seconds when its excess is digested, else 0 (skipped)."""
        config = self._rules.get((tenant_id, event_type))
        digested = self._digested.get((tenant_id, event_type))
        if not config or not digested:
            return 0
        name = channel if channel in config else WILDCARD
        return config[name][1] if name in digested and name in config else 0
