"""Reading a rule set: every bad part named by rule index and name, field, and position in a condition."""

from __future__ import annotations

import pytest

from notifications.enums import Lane
from notifications.rules.definition import MAX_RULES, read_rules
from notifications.rules.errors import RulesInvalid


def problems(raw) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        read_rules(raw)
    return [str(problem) for problem in caught.value.problems]


def test_a_full_rule_is_read():
    [rule] = read_rules([{"name": "r", "event_types": ["content.liked"], "when": "payload.like_count > 1",
                          "actions": {"add_channels": ["sms"], "remove_channels": ["push"], "skip": "why",
                                      "priority": "low", "delay_seconds": 60, "provider": {"sms": "b"},
                                      "template": {"email": "t"}}, "stop": True}])
    assert rule.event_types == {"content.liked"} and rule.stop and rule.condition is not None
    actions = rule.actions
    assert (actions.add_channels, actions.remove_channels, actions.skip, actions.lane, actions.delay_seconds) == (
        ("sms",), ("push",), "why", Lane.BULK, 60)
    assert (actions.provider, actions.template) == ({"sms": "b"}, {"email": "t"})


def test_every_bad_part_is_named():
    found = problems([
        {"name": "ok", "actions": {"skip": "x"}},
        {"name": "bad when", "when": "payload.a >", "actions": {"skip": "x"}},
        {"name": "bad channel", "actions": {"add_channels": ["fax"], "priority": "urgent"}},
        {"actions": {"delay_seconds": 0}},
        {"name": "ok too", "actions": {"skip": "x"}, "colour": "red"},
        "not a rule",
    ])
    assert found[0].startswith("rules[1] 'bad when'.when: Syntax error") and found[0].endswith("(at character 11)")
    assert found[1].startswith("rules[2] 'bad channel'.actions.add_channels: unknown channel 'fax'")
    assert found[2].startswith("rules[2] 'bad channel'.actions.priority: must be one of high, normal, low")
    assert found[3] == "rules[3].name: must be a non-empty string"
    assert found[4].startswith("rules[3].actions.delay_seconds: must be a whole number of seconds from 1 to")
    assert found[5].startswith("rules[4] 'ok too'.colour: unknown field")
    assert found[6] == "rules[5]: must be an object"
    assert len(found) == 7


def test_names_are_unique_and_actions_required():
    assert problems([{"name": "a", "actions": {"skip": "x"}}, {"name": "a", "actions": {"skip": "y"}}]) == [
        "rules[1] 'a'.name: another rule has this name: names are unique"]
    assert problems([{"name": "a", "actions": {}}])[0].startswith("rules[0] 'a'.actions: must be an object with")


def test_a_rule_set_too_big_is_refused():
    assert problems([{"name": f"r{i}", "actions": {"skip": "x"}} for i in range(MAX_RULES + 1)]) == [
        f"rules: at most {MAX_RULES} rules per tenant, not {MAX_RULES + 1}"]
    assert problems({"name": "x"}) == ["rules: must be a list of rules"]


def test_a_disabled_rule_is_kept_but_never_applies():
    [rule] = read_rules([{"name": "off", "enabled": False, "actions": {"skip": "x"}}])
    assert rule.event_types == frozenset() and rule.actions.skip is None


def test_what_the_database_cannot_store_is_refused():
    assert problems([{"name": "a\x00b", "actions": {"skip": "x"}}]) == [
        "rules[0] 'a\\x00b': text must not contain NUL characters or lone surrogates"]
    assert problems([{"name": "r", "when": "payload.a == '\ud800'", "actions": {"skip": "x"}}])[0].startswith(
        "rules[0] 'r': text must not")
