"""Running a compiled rule set: indexed by event type, rules folded in order, `stop`, secrets never visible."""

from __future__ import annotations

from datetime import timedelta

import pytest

from notifications.enums import Lane
from notifications.rules.compiled import CompiledRules, RuleFailed
from notifications.rules.definition import read_rules


def compiled(raw) -> CompiledRules:
    return CompiledRules("acme", 1, read_rules(raw))


def run(rules: CompiledRules, event_type: str = "content.liked", payload=None, metadata=None, contact=None,
        hidden=frozenset(), trace=None):
    plan = rules.plan_for(event_type)
    assert plan is not None
    return rules.evaluate(plan, event_type, payload or {}, metadata or {}, contact or {}, hidden, trace)


def test_rules_are_indexed_by_event_type():
    rules = compiled([{"name": "a", "event_types": ["content.liked"], "actions": {"skip": "x"}},
                      {"name": "b", "event_types": ["task.assigned", "content.liked"], "actions": {"skip": "y"}},
                      {"name": "all", "actions": {"priority": "low"}}])
    assert [r.name for r in rules.plan_for("content.liked").rules] == ["a", "b", "all"]
    assert [r.name for r in rules.plan_for("task.assigned").rules] == ["b", "all"]
    assert compiled([{"name": "a", "event_types": ["task.assigned"], "actions": {"skip": "x"}}]).plan_for(
        "content.liked") is None


def test_actions_fold_in_order():
    rules = compiled([
        {"name": "drop push", "actions": {"remove_channels": ["push"], "provider": {"sms": "a"}}},
        {"name": "add sms", "actions": {"add_channels": ["sms", "push"], "priority": "low", "delay_seconds": 5}},
        {"name": "no sms after all", "actions": {"remove_channels": ["sms"], "skip": "first skip",
                                                 "provider": {"sms": "b"}}},
        {"name": "second skip", "actions": {"skip": "second", "priority": "high"}},
    ])
    outcome = run(rules)
    assert outcome.matched == ["drop push", "add sms", "no sms after all", "second skip"]
    assert outcome.channels(["in_app", "push"], mandatory=False) == ["in_app", "push"]
    assert outcome.skip == ("no sms after all", "first skip")
    assert (outcome.lane, outcome.delay) == (Lane.NORMAL, timedelta(seconds=5))
    assert outcome.route("sms") == '{"provider":"b"}' and outcome.route("email") is None


def test_stop_ends_the_evaluation_and_conditions_choose():
    rules = compiled([{"name": "big", "when": "payload.n > 10", "actions": {"skip": "big"}, "stop": True},
                      {"name": "rest", "actions": {"priority": "low"}}])
    assert run(rules, payload={"n": 11}).matched == ["big"]
    assert run(rules, payload={"n": 1}).matched == ["rest"]


def test_a_mandatory_events_channels_are_never_removed():
    outcome = run(compiled([{"name": "r", "actions": {"remove_channels": ["sms"], "add_channels": ["email"]}}]))
    assert outcome.channels(["sms"], mandatory=True) == ["sms", "email"]


def test_sensitive_fields_are_never_visible():
    rules = compiled([{"name": "reads the code", "when": 'has(payload.code) || payload.user_id == "u-1"',
                       "actions": {"skip": "x"}},
                      {"name": "reads it all", "when": "size(payload) == 1", "actions": {"priority": "low"}}])
    outcome = run(rules, payload={"code": "123456", "user_id": "u-2"}, hidden=frozenset({"code"}))
    assert outcome.matched == ["reads it all"]


def test_the_recipient_is_what_the_planner_may_tell():
    rules = compiled([{"name": "r", "when": 'recipient.has_phone && !has(recipient.phone) && recipient.locale == "de"',
                       "actions": {"skip": "x"}}])
    assert run(rules, contact={"phone": "+4915", "email": "", "locale": "de"}).matched == ["r"]


def test_a_failing_condition_raises_with_the_rules_name_and_the_trace_says_so():
    rules = compiled([{"name": "reads b", "when": "payload.b == 1", "actions": {"skip": "x"}},
                      {"name": "not a boolean", "when": "payload.a", "actions": {"skip": "x"}}])
    with pytest.raises(RuleFailed, match="rule 'reads b' failed"):
        run(rules, payload={"a": 1})
    trace: list = []
    run(rules, payload={"a": 1}, trace=trace)
    assert [(step["rule"], step["matched"], "error" in step) for step in trace] == [
        ("reads b", False, True), ("not a boolean", False, True)]
