"""A rule set as stored (a JSON list) read into typed rules, and every bad part named: the rule's index and name,
the field, and for a condition the character where it goes wrong. The semantics are in README.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifications.enums import Channel, Lane
from notifications.rules.conditions import Condition, compile_condition
from notifications.rules.errors import ConditionError, Problem, RulesInvalid
from notifications.scheduling.parse import horizon
from notifications.storable import json_problem

MAX_RULES = 50
MAX_NAME = 100
MAX_REASON = 200
MAX_LIST = 20  # event types, channels of one action
MAX_REFERENCE = 100  # a provider label, a template name, an event type
RULE_KEYS = frozenset({"name", "event_types", "when", "actions", "enabled", "stop"})
ACTION_KEYS = frozenset({"add_channels", "remove_channels", "skip", "priority", "delay_seconds", "provider",
                         "template"})
#: A rule's priority -> the claim lane of its records (enums.Lane).
PRIORITIES = {"high": Lane.NORMAL.value, "normal": Lane.NORMAL.value, "low": Lane.BULK.value}


@dataclass(frozen=True, slots=True)
class Actions:
    add_channels: tuple[str, ...] = ()
    remove_channels: tuple[str, ...] = ()
    skip: str | None = None
    lane: int | None = None
    delay_seconds: int | None = None
    provider: dict[str, str] = field(default_factory=dict)  # channel -> provider label
    template: dict[str, str] = field(default_factory=dict)  # channel -> tenant template name


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    event_types: frozenset[str] | None  # None: every event type
    condition: Condition | None  # None: always
    actions: Actions
    stop: bool = False


class _Reader:
    """Collects the problems of one rule set while reading it (every problem is reported, not the first)."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, where: str, message: str, position: int | None = None) -> None:
        self.problems.append(Problem(where, message, position))

    def text(self, where: str, value: Any, limit: int, *, empty: bool = False) -> str | None:
        if not isinstance(value, str) or (not empty and not value.strip()):
            self.problem(where, "must be a non-empty string")
            return None
        if len(value) > limit:
            self.problem(where, f"longer than {limit} characters")
            return None
        return value

    def strings(self, where: str, value: Any, limit: int = MAX_REFERENCE) -> list[str]:
        if not isinstance(value, list) or len(value) > MAX_LIST:
            self.problem(where, f"must be a list of at most {MAX_LIST} strings")
            return []
        texts = [self.text(f"{where}[{i}]", item, limit) for i, item in enumerate(value)]
        return [text for text in texts if text is not None]

    def channels(self, where: str, value: Any) -> list[str]:
        known = {str(channel) for channel in Channel.known()}
        names = self.strings(where, value)
        for name in names:
            if name not in known:
                self.problem(where, f"unknown channel {name!r}: one of {', '.join(sorted(known))}")
        return [name for name in names if name in known]

    def by_channel(self, where: str, value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or not value:
            self.problem(where, 'must be an object of channel -> name, e.g. {"sms": "backup"}')
            return {}
        known = {str(channel) for channel in Channel.known()}
        out = {}
        for channel, name in value.items():
            if channel not in known:
                self.problem(f"{where}.{channel}", "unknown channel")
            text = self.text(f"{where}.{channel}", name, MAX_REFERENCE)
            if channel in known and text is not None:
                out[channel] = text
        return out


def read_rules(raw: Any) -> list[Rule]:
    """The rules of `raw` (the stored or submitted JSON), or RulesInvalid listing every bad part."""
    reader = _Reader()
    if not isinstance(raw, list):
        raise RulesInvalid([Problem("rules", "must be a list of rules")])
    if len(raw) > MAX_RULES:
        raise RulesInvalid([Problem("rules", f"at most {MAX_RULES} rules per tenant, not {len(raw)}")])
    rules, names = [], set()
    for index, item in enumerate(raw):
        rule = _read_rule(reader, index, item)
        if rule is None:
            continue
        if rule.name in names:
            reader.problem(label(index, rule.name) + ".name", "another rule has this name: names are unique")
        names.add(rule.name)
        rules.append(rule)
    if reader.problems:
        raise RulesInvalid(reader.problems)
    return rules


def label(index: int, name: Any) -> str:
    return f"rules[{index}] {name!r}" if isinstance(name, str) and name else f"rules[{index}]"


def _read_rule(reader: _Reader, index: int, item: Any) -> Rule | None:
    if not isinstance(item, dict):
        reader.problem(f"rules[{index}]", "must be an object")
        return None
    unstorable = json_problem(item)  # NUL, lone surrogates, depth, size: what the database cannot keep
    if unstorable:
        reader.problem(label(index, item.get("name")), unstorable)
        return None
    where = label(index, item.get("name"))
    for key in sorted(set(item) - RULE_KEYS):
        reader.problem(f"{where}.{key}", f"unknown field: a rule has {', '.join(sorted(RULE_KEYS))}")
    before = len(reader.problems)
    name = reader.text(f"{where}.name", item.get("name"), MAX_NAME)
    event_types = None
    if item.get("event_types") is not None:
        event_types = frozenset(reader.strings(f"{where}.event_types", item["event_types"])) or None
    condition = None
    if item.get("when") is not None:
        try:
            condition = compile_condition(item["when"])
        except ConditionError as err:
            reader.problem(f"{where}.when", err.message, err.position)
    for flag in ("enabled", "stop"):
        if flag in item and type(item[flag]) is not bool:
            reader.problem(f"{where}.{flag}", "must be true or false")
    actions = _read_actions(reader, where, item.get("actions"))
    if len(reader.problems) > before or name is None or actions is None:
        return None
    if item.get("enabled", True) is False:
        return Rule(name, frozenset(), None, Actions())  # kept for its name; never applies
    return Rule(name, event_types, condition, actions, stop=item.get("stop", False) is True)


def _read_actions(reader: _Reader, where: str, raw: Any) -> Actions | None:
    where = f"{where}.actions"
    if not isinstance(raw, dict) or not raw:
        reader.problem(where, f"must be an object with one or more of {', '.join(sorted(ACTION_KEYS))}")
        return None
    for key in sorted(set(raw) - ACTION_KEYS):
        reader.problem(f"{where}.{key}", f"unknown action: one of {', '.join(sorted(ACTION_KEYS))}")
    add = reader.channels(f"{where}.add_channels", raw["add_channels"]) if "add_channels" in raw else []
    remove = reader.channels(f"{where}.remove_channels", raw["remove_channels"]) if "remove_channels" in raw else []
    skip = reader.text(f"{where}.skip", raw["skip"], MAX_REASON) if "skip" in raw else None
    lane = None
    if "priority" in raw:
        lane = PRIORITIES.get(raw["priority"]) if isinstance(raw["priority"], str) else None
        if lane is None:
            reader.problem(f"{where}.priority", f"must be one of {', '.join(PRIORITIES)}")
    delay = raw.get("delay_seconds")
    if "delay_seconds" in raw:
        limit = int(horizon().total_seconds())
        if type(delay) is not int or not 1 <= delay <= limit:
            reader.problem(f"{where}.delay_seconds", f"must be a whole number of seconds from 1 to {limit}")
            delay = None
    provider = reader.by_channel(f"{where}.provider", raw["provider"]) if "provider" in raw else {}
    template = reader.by_channel(f"{where}.template", raw["template"]) if "template" in raw else {}
    return Actions(tuple(add), tuple(remove), skip, lane, delay, provider, template)
