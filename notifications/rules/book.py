"""The planner's one call into the rules: `RuleBook(tenants).outcome(event, contact)`.

Compiled rule sets are cached per process by (tenant, version): intake knows a tenant's version from its Tenant
row (Tenant.rules_version), so an event costs no query, a tenant without rules one dictionary look-up, and a new
version is read once (one query for the batch's tenants whose version is new here) when a RuleBook is made, never
while records are written (a fan-out streams them into a COPY while it plans)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.db.models import Q

from notifications.events.envelope import ValidatedEvent
from notifications.rules.compiled import CompiledRules, RuleFailed
from notifications.rules.definition import read_rules
from notifications.rules.errors import RulesInvalid
from notifications.rules.models import RuleSet
from notifications.rules.outcome import Outcome
from notifications.tenants.models import Tenant

logger = logging.getLogger(__name__)

_STAND_IN = "-"
CACHE_SIZE = 1000  # compiled rule sets kept per process; the oldest goes first
#: By (tenant, version, the tenant's creation time): a tenant deleted and made again under its id numbers its
#: versions from 1 again, and must not find the old tenant's rules here.
_compiled: dict[tuple[str, int, Any], CompiledRules | RuleFailed] = {}


def forget_compiled() -> None:
    """Drop every compiled rule set of this process (tests roll back tenants made at the same instant)."""
    _compiled.clear()


def _key(tenant: Tenant) -> tuple[str, int, Any]:
    return tenant.id, tenant.rules_version, tenant.created_at


def _load(wanted: list[tuple[str, int, Any]]) -> None:
    """Compile the rule sets of these (tenant, version)s into the cache: one query."""
    query = Q()
    for tenant_id, number, _ in wanted:
        query |= Q(tenant_id=tenant_id, version=number)
    found = {(row.tenant_id, row.version): row.rules for row in RuleSet.objects.filter(query)}
    for key in wanted:
        tenant_id, number, _ = key
        if (tenant_id, number) not in found:  # the version is named on the tenant but not stored: nothing to apply
            _compiled[key] = CompiledRules(tenant_id, number, [])
            continue
        try:
            _compiled[key] = CompiledRules(tenant_id, number, read_rules(found[(tenant_id, number)]))
        except RulesInvalid as err:  # stored around the checks, or a check made stricter since: its events fail
            logger.error("stored rules unreadable: tenant_id=%s version=%s: %s", tenant_id, number, err)
            _compiled[key] = RuleFailed(f"the tenant's rules v{number} cannot be read: {err}", tenant_id=tenant_id)
    while len(_compiled) > CACHE_SIZE:
        del _compiled[next(iter(_compiled))]


def compiled_for(tenants: Mapping[str, Tenant]) -> dict[str, CompiledRules | RuleFailed]:
    wanted = {tenant_id: _key(tenant) for tenant_id, tenant in tenants.items() if tenant.rules_version}
    missing = [key for key in wanted.values() if key not in _compiled]
    if missing:
        _load(missing)
    return {tenant_id: _compiled[key] for tenant_id, key in wanted.items()}


class RuleBook:
    """The rules of a batch's tenants. An event whose rules do not read the recipient is evaluated once however
    many recipients it has (a fan-out plans one copy of the event per recipient, sharing its payload)."""

    def __init__(self, tenants: Mapping[str, Tenant]) -> None:
        self._sets = compiled_for(tenants)
        self._last: tuple[Any, Any, Any, Outcome | None] | None = None
        self._parsed: tuple[Any, dict[str, Any]] | None = None

    @classmethod
    def of(cls, tenant_id: str, rules: CompiledRules) -> RuleBook:
        """A book holding these rules for this tenant only (the dry run's draft or current rules)."""
        book = cls({})
        book._sets = {tenant_id: rules}
        return book

    def _typed(self, event: ValidatedEvent) -> Mapping[str, Any]:
        """The payload as its handler types it (rules.conditions reads decimals as numbers): intake's events
        carry it; a fan-out's copies share one stored payload, typed here once. An audience's payload names no
        user (each copy is one recipient's): typed with a stand-in, which no rule sees."""
        if event.typed is not None:
            return event.typed
        parsed = self._parsed
        if parsed is None or parsed[0] is not event.payload:
            stored = event.payload
            try:
                typed = event.handler.parse_payload(event.event_type, {"user_id": _STAND_IN, **stored})[1]
            except Exception:  # noqa: BLE001 - as stored, then (a host project's handler may type it otherwise)
                typed = stored
            if "user_id" not in stored:
                typed = {key: value for key, value in typed.items() if key != "user_id"}
            parsed = self._parsed = (stored, typed)
        return parsed[1]

    def may_add(self, event: ValidatedEvent) -> list[str]:
        """Every channel a rule could add to this event (a fan-out asks before it streams its records)."""
        rules = self._sets.get(event.tenant_id)
        plan = rules.plan_for(event.event_type) if isinstance(rules, CompiledRules) else None
        return [channel for rule in plan.rules for channel in rule.actions.add_channels] if plan else []

    def outcome(self, event: ValidatedEvent, contact: Mapping[str, Any]) -> Outcome | None:
        """What the tenant's rules do to this event (None: no rule applies). Raises RuleFailed when a rule's
        condition fails on it: the planner's guard then fails this event alone."""
        rules = self._sets.get(event.tenant_id)
        if rules is None:
            return None
        if isinstance(rules, RuleFailed):
            raise rules
        plan = rules.plan_for(event.event_type)
        if plan is None:
            return None
        last = self._last
        if last is not None and last[0] is plan and last[1] is event.payload and last[2] is event.metadata:
            return last[3]  # a fan-out's next recipient, and no rule reads the recipient
        outcome: Outcome | None = rules.evaluate(plan, event.event_type, self._typed(event), event.metadata,
                                                 contact, event.handler.sensitive_fields)
        if outcome is not None and not outcome.matched:
            outcome = None  # no rule matched: the planner does as without rules
        self._last = None if plan.reads_recipient else (plan, event.payload, event.metadata, outcome)
        return outcome
