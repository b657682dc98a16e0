"""A rule set compiled for running: its rules indexed by event type (an event evaluates only the rules that can
apply to it), and for each event type what the conditions read, so an event's CEL values are made once and hold
only that. Made once per (tenant, version) per process (rules.book)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import cel

from notifications.errors import NotificationError
from notifications.rules.conditions import MAPPINGS, Condition
from notifications.rules.definition import Rule
from notifications.rules.fastpath import Fallback
from notifications.rules.outcome import Outcome
from notifications.rules.values import cel_value, recipient_values

logger = logging.getLogger(__name__)


class RuleFailed(NotificationError):
    """A rule's condition raised on one event (a missing key read without has(), a type mismatch): that event
    fails alone, with the rule's name."""


@dataclass(frozen=True, slots=True)
class TypePlan:
    """The rules that can apply to one event type, in order, and what their conditions read."""

    rules: tuple[Rule, ...]
    variables: frozenset[str]
    keys: Mapping[str, frozenset[str] | None]  # per mapping: the keys read; None: all of it

    @property
    def reads_recipient(self) -> bool:
        return "recipient" in self.variables


def _plan(rules: tuple[Rule, ...]) -> TypePlan:
    variables: set[str] = set()
    keys: dict[str, set[str] | None] = {}
    for rule in rules:
        if rule.condition is None:
            continue
        variables |= rule.condition.variables
        for name, read in rule.condition.keys.items():
            if read is None or keys.get(name, set()) is None:
                keys[name] = None
            else:
                keys[name] = (keys.get(name) or set()) | read
    return TypePlan(rules, frozenset(variables),
                    {name: None if read is None else frozenset(read) for name, read in keys.items()})


def _pruned(mapping: Mapping[str, Any], keys: frozenset[str] | None, hidden: frozenset[str]) -> dict[str, Any]:
    """The keys a condition reads (all when None) but the hidden ones, as CEL values (rules.conditions)."""
    if keys is None:
        return {key: cel_value(value) for key, value in mapping.items() if key not in hidden}
    return {key: cel_value(mapping[key]) for key in keys if key in mapping and key not in hidden}


class CompiledRules:
    """A tenant's rules at one version, ready to run."""

    def __init__(self, tenant_id: str, version: int, rules: list[Rule]) -> None:
        self.tenant_id, self.version, self.rules = tenant_id, version, tuple(rules)
        self._plans: dict[str, TypePlan | None] = {}

    def plan_for(self, event_type: str) -> TypePlan | None:
        """The rules for this event type (worked out once per type), None when none can apply."""
        try:
            return self._plans[event_type]
        except KeyError:
            rules = tuple(rule for rule in self.rules
                          if rule.event_types is None or event_type in rule.event_types)
            plan = self._plans[event_type] = _plan(rules) if rules else None
            return plan

    def evaluate(self, plan: TypePlan, event_type: str, payload: Mapping[str, Any], metadata: Mapping[str, Any],
                 contact: Mapping[str, Any], hidden: frozenset[str], trace: list[dict[str, Any]] | None = None,
                 ) -> Outcome:
        """The outcome of the plan's rules on one event. `hidden`: payload keys no rule may see (the handler's
        sensitive fields). `trace` (the dry run) gets each rule's result. Each condition runs on its fast path
        (rules.fastpath) where it has one and that path can answer, else on CEL, whose values are made once."""
        event = _Event(self.tenant_id, event_type, payload, metadata, contact, hidden)
        outcome = Outcome()
        for rule in plan.rules:
            if rule.condition is not None:
                try:
                    result = event.holds(plan, rule.condition)
                except Exception as err:  # CEL's evaluation errors come as several types
                    logger.error("rule failed: tenant_id=%s rule=%r event_type=%s (%s)", self.tenant_id,
                                 rule.name, event_type, str(err)[:200])
                    if trace is None:
                        raise RuleFailed(f"rule {rule.name!r} failed: {str(err)[:200]}", tenant_id=self.tenant_id,
                                         event_type=event_type) from err
                    trace.append({"rule": rule.name, "matched": False, "error": str(err)[:200]})
                    continue
                if not result:
                    if trace is not None:
                        trace.append({"rule": rule.name, "matched": False})
                    continue
            if trace is not None:
                trace.append({"rule": rule.name, "matched": True})
            _fold(outcome, rule)
            if rule.stop:
                break
        return outcome


class _Event:
    """One event's values for its conditions: for the fast path as they are (made once, when first needed), for
    CEL converted into a Context (made once, only when a condition needs CEL)."""

    __slots__ = ("contact", "context", "event_type", "fast", "hidden", "metadata", "payload", "tenant_id")

    def __init__(self, tenant_id: str, event_type: str, payload: Mapping[str, Any], metadata: Mapping[str, Any],
                 contact: Mapping[str, Any], hidden: frozenset[str]) -> None:
        self.tenant_id, self.event_type, self.payload, self.metadata = tenant_id, event_type, payload, metadata
        self.contact, self.hidden = contact, hidden
        self.fast: dict[str, Any] | None = None
        self.context: Any = None

    def holds(self, plan: TypePlan, condition: Condition) -> bool:
        if condition.fast is not None:
            fast = self.fast
            if fast is None:
                fast = self.fast = self._fast_values(plan)
            try:
                return condition.fast(fast)
            except Fallback:
                pass  # CEL answers this one
        if self.context is None:
            self.context = cel.Context(variables=self._cel_values(plan))
        result = condition.program.execute(self.context)
        if type(result) is not bool:
            raise TypeError(f"the condition gave {type(result).__name__}, not true or false")
        return result

    def _fast_values(self, plan: TypePlan) -> dict[str, Any]:
        payload = self.payload
        if self.hidden and not self.hidden.isdisjoint(payload):
            payload = {key: value for key, value in payload.items() if key not in self.hidden}
        return {"payload": payload, "metadata": self.metadata, "event_type": self.event_type,
                "tenant_id": self.tenant_id,
                "recipient": recipient_values(self.contact) if plan.reads_recipient else {}}

    def _cel_values(self, plan: TypePlan) -> dict[str, Any]:
        wanted, values = plan.variables, dict[str, Any]()
        if "event_type" in wanted:
            values["event_type"] = self.event_type
        if "tenant_id" in wanted:
            values["tenant_id"] = self.tenant_id
        sources = {"payload": (self.payload, self.hidden), "metadata": (self.metadata, frozenset()),
                   "recipient": (recipient_values(self.contact) if "recipient" in wanted else {}, frozenset())}
        for name in MAPPINGS:
            if name in wanted:
                mapping, hide = sources[name]
                values[name] = _pruned(mapping, plan.keys.get(name), hide)
        return values


def _fold(outcome: Outcome, rule: Rule) -> None:
    """One matched rule's actions into the outcome (README.md: "How rules combine")."""
    actions = rule.actions
    outcome.matched.append(rule.name)
    for channel in actions.remove_channels:
        outcome.remove.add(channel)
        if channel in outcome.add:
            outcome.add.remove(channel)
    for channel in actions.add_channels:
        outcome.remove.discard(channel)
        if channel not in outcome.add:
            outcome.add.append(channel)
    if actions.skip is not None and outcome.skip is None:
        outcome.skip = (rule.name, actions.skip)
    if actions.lane is not None:
        outcome.lane = actions.lane
    if actions.delay_seconds:
        outcome.delay, outcome.delay_rule = timedelta(seconds=actions.delay_seconds), rule.name
    outcome.provider.update(actions.provider)
    outcome.template.update(actions.template)
