"""Conditions: CEL compiled once, bounded before the parser sees the text, and handed only what they read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import cel
import pytest

from notifications.rules.conditions import (
    MAX_DEPTH,
    MAX_NUMBER_LITERAL,
    MAX_STRING_LITERAL,
    MAX_TEXT,
    as_doubles,
    check_bounds,
    compile_condition,
)
from notifications.rules.errors import ConditionError
from notifications.rules.values import cel_value


def holds(text: str, **values) -> bool:
    condition = compile_condition(text)
    return condition.program.execute(cel.Context(variables={k: cel_value(v) for k, v in values.items()}))


def refused(text: str) -> ConditionError:
    with pytest.raises(ConditionError) as caught:
        compile_condition(text)
    return caught.value


def test_a_condition_reads_the_envelope_and_the_payload():
    assert holds('payload.amount > 1000 && metadata.plan == "free"', payload={"amount": 1500},
                 metadata={"plan": "free"})
    assert not holds("payload.amount > 1000", payload={"amount": 999.5})
    assert holds('event_type.startsWith("invoice.") && tenant_id == "acme"', event_type="invoice.paid",
                 tenant_id="acme")
    assert holds('recipient.locale.startsWith("de") && recipient.has_email', recipient={
        "locale": "de-AT", "has_email": True})


def test_numbers_compare_whatever_the_producer_wrote():
    for amount in (1500, 1500.0, Decimal("1500.00"), 1234.5):
        assert holds("payload.amount > 1000", payload={"amount": amount}), amount
    assert holds("payload.items[0] == 3", payload={"items": [3, 4]})
    assert holds("double(size(payload.items)) == 2", payload={"items": [3, 4]})


def test_integer_literals_become_doubles_but_not_indexes_or_strings():
    text = 'payload.items[1] > 2 && "10" == payload.s && [1, 2].exists(x, x == 1) && 0x1F == 31u && 1e3 > 1.5'
    assert as_doubles(text, check_bounds(text)) == (
        'payload.items[1] > 2.0 && "10" == payload.s && [1.0, 2.0].exists(x, x == 1.0) && 0x1F == 31u && 1e3 > 1.5')


def test_date_times_are_timestamps():
    assert holds('payload.due > timestamp("2026-01-01T00:00:00Z")', payload={"due": datetime(2026, 6, 1, tzinfo=UTC)})


def test_what_a_condition_reads_is_all_it_gets():
    condition = compile_condition('payload.amount > 1 && payload["user-plan"] == "x" || has(metadata.plan)')
    assert condition.variables == {"payload", "metadata"}
    assert condition.keys == {"payload": frozenset({"amount", "user-plan"}), "metadata": frozenset({"plan"})}
    assert compile_condition("size(payload) > 1").keys == {"payload": None}  # read as a whole
    assert compile_condition('"payload.x" == payload.y').keys == {"payload": frozenset({"y"})}  # strings: text


def test_a_syntax_error_names_its_position():
    error = refused("payload.amount >")
    assert error.position == 16
    assert refused("payload.amount > 1 &&\n  payload.b == )").position == 37  # the ")": line 2, column 16


def test_hostile_deep_nesting_is_refused_before_parsing():
    for text in ("(" * 100_000 + "1" + ")" * 100_000, "[" * 100_000, "{" * (MAX_DEPTH + 1)):
        error = refused(text[:MAX_TEXT])
        assert "nested deeper" in error.message and error.position == MAX_DEPTH
    assert "longer than" in refused("(" * 100_000).message  # the length check comes first


def test_hostile_sizes_are_refused():
    assert "longer than" in refused("payload.a == 1 || " * 100 + "true").message
    literal = refused(f'payload.a == "{"x" * (MAX_STRING_LITERAL + 1)}"')
    assert "string literal" in literal.message and literal.position == 13
    assert "number literal" in refused("payload.a == " + "9" * (MAX_NUMBER_LITERAL + 1)).message
    assert "list macros" in refused("[1].all(x, [2].all(y, [3].all(z, true)))").message
    assert "unterminated" in refused('payload.a == "abc').message


def test_regexes_and_unknown_variables_are_refused():
    assert "regular expressions" in refused('payload.name.matches("(a+)+$")').message
    error = refused('os.system == "x"')
    assert "unknown variable 'os'" in error.message and error.position == 0


def test_attribute_access_reads_map_keys_never_python_objects():
    condition = compile_condition("payload.__class__ == null")
    context = cel.Context(variables={"payload": {"amount": 1.0}})
    with pytest.raises(Exception, match="__class__"):  # a missing key, not a Python attribute
        condition.program.execute(context)
    assert holds('has(payload.__class__) == false', payload={"a": 1})


def test_a_string_may_hold_brackets_and_quotes():
    assert holds("""payload.s == "((([[[{{" && payload.t == 'it\\'s'""", payload={"s": "((([[[{{", "t": "it's"})
