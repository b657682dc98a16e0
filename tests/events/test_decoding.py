"""Any bytes become a JSON value or an error text: never an exception; repeated keys are refused at any depth."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from notifications.enums import RejectionReason
from notifications.events.decoding import count_keys, decode, has_long_digit_run, plainly_storable
from notifications.events.envelope import EventRejection, ValidatedEvent, validate_event
from notifications.events.registry import event_registry
from notifications.testing import make_event

VALID = json.dumps(make_event("invoice.payment.failed") | {"event_id": "e-1"}).encode()


@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        (b'{"a": ' + b"1" * 5000 + b"}", "number too large (5000 digits)"),
        ('{"a": ' + "1" * 5000 + "}", "number too large (5000 digits)"),
        (b'{"a": 1e999}', "number too large"),
        (b'{"a": -1e400}', "number too large"),
        (b'{"a": NaN}', "NaN is not a JSON number"),
        (b'{"a": [Infinity]}', "Infinity is not a JSON number"),
        (b"[" * 200_000, "nested too deeply"),
        (b'{"tenant_id": "a", "tenant_id": "b"}', "repeated key 'tenant_id'"),
        (VALID.replace(b'"amount": ', b'"amount": 1, "amount": '), "repeated key 'amount'"),
        (VALID.replace(b'"amount": ', b'"amount" : 1, "amount"\n:'), "repeated key 'amount'"),
        (b'[{"x": {"y": [{"d": 1, "d": 2}]}}]', "repeated key 'd'"),
        (b"\xff\xfe", "not UTF-8"),
        (b"x" * (1024 * 1024 + 1), "larger than"),
    ],
)
def test_hostile_text_is_an_error_text_never_an_exception(raw, detail):
    value, error, _ = decode(raw)

    assert value is None
    assert error is not None and detail in error
    rejection = validate_event(raw, event_registry)
    assert isinstance(rejection, EventRejection)
    assert rejection.reason == RejectionReason.INVALID_JSON
    assert "1111" not in rejection.detail  # the number itself is never quoted


def test_keys_that_only_look_repeated_are_taken():
    # A string value holding '":' inflates the text's count of key ends: the exact parse decides.
    raw = VALID.replace(b'"failure_reason": "insufficient_funds"', b'"failure_reason": "a\\": b\\":"')
    assert isinstance(validate_event(raw, event_registry), ValidatedEvent)
    # The same key in two different objects is no repeat.
    assert decode(b'[{"a": 1}, {"a": 2}, {"b": {"a": 3}}]')[1] is None


def test_count_keys_counts_every_object_at_every_depth():
    assert count_keys({"a": [{"b": 1, "c": {"d": []}}], "e": {}}) == 5


def test_a_validator_that_raises_anything_becomes_a_rejection_of_that_event(monkeypatch):
    handler = event_registry.get_handler("invoice.payment.failed")

    def explode(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded while reading 'secret-value'")

    monkeypatch.setattr(handler, "parse_payload", explode)
    rejection = validate_event(VALID, event_registry)

    assert isinstance(rejection, EventRejection)
    assert rejection.reason == RejectionReason.PROCESSING_ERROR
    assert rejection.detail == "validating the event failed: RecursionError"
    assert rejection.tenant_id == "acme" and rejection.event_type == "invoice.payment.failed"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
).map(lambda value: json.dumps(value).encode()))
def test_validate_event_never_raises(raw):
    assert isinstance(validate_event(raw, event_registry), (EventRejection, ValidatedEvent))


@pytest.mark.parametrize("number", [123456789012345678901234567890, -9223372036854775809, 18446744073709551616])
def test_integers_beyond_64_bits_keep_every_digit(number):
    """orjson reads them as floats; the decoder takes the exact path instead of losing digits."""
    value, error, _ = decode(f'{{"amount": {number}, "note": "x"}}'.encode())
    assert error is None
    assert value["amount"] == number and type(value["amount"]) is int


@given(st.binary(max_size=80), st.integers(min_value=0, max_value=40))
def test_long_digit_runs_are_found_as_the_regex_finds_them(text, run):
    raw = text + b"7" * run + text
    assert has_long_digit_run(raw) == (re.search(rb"[0-9]{19,}", raw) is not None)


_SPACE = st.sampled_from(["", " ", "\n", "\t ", "\r\n  "])


def _json_text(value, draw):
    """JSON text of `value` where a dict is a list of (key, value) pairs (so keys may repeat), with whitespace
    drawn around every token."""
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        members = [f"{draw(_SPACE)}{json.dumps(key)}{draw(_SPACE)}:{draw(_SPACE)}{_json_text(item, draw)}{draw(_SPACE)}"
                   for key, item in value]
        return "{" + ",".join(members) + "}"
    if isinstance(value, list):
        return "[" + ",".join(draw(_SPACE) + _json_text(item, draw) + draw(_SPACE) for item in value) + "]"
    return json.dumps(value)


_TRICKY = st.sampled_from(['a', 'b', '":', '" :', 'a\\":', ':"', '"', ' ', '\\', 'x":y'])
_OBJECTS = st.recursive(
    st.integers(-5, 5) | st.lists(_TRICKY, max_size=3).map("".join),
    lambda inner: st.lists(inner, max_size=3)
    | st.lists(st.tuples(st.lists(_TRICKY, max_size=2).map("".join), inner), min_size=1, max_size=4),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None)
@given(_OBJECTS.filter(lambda value: isinstance(value, list) and value and isinstance(value[0], tuple)), st.data())
def test_a_repeated_key_is_found_whatever_the_whitespace_and_the_strings_hold(value, data):
    """decode's key count on the text without whitespace against the exact parse: the same verdict, always."""
    raw = _json_text(value, data.draw).encode()
    try:
        json.loads(raw, object_pairs_hook=_refuse_repeats)
        repeated = None
    except _Repeated as err:
        repeated = str(err)

    _, error, plain = decode(raw)
    assert (error is not None and error.startswith("repeated key")) == (repeated is not None)
    if error is None:  # the bracket count read from the text's shape is plainly_storable's
        assert plain == plainly_storable(raw)


@pytest.mark.parametrize("raw", [b'{"a": [' + b"[" * 31 + b"]" * 31 + b"]}", b'{"a": "' + b"[" * 32 + b'"}',
                                 b'{"a": "' + b"{" * 31 + b'"}', b'{"a": "\\\\u0000"}', b'{"a": "\\u0000"}'])
def test_the_plain_verdict_is_plainly_storables(raw):
    value, error, plain = decode(raw)
    assert error is None and value is not None
    assert plain == plainly_storable(raw)


class _Repeated(ValueError):
    pass


def _refuse_repeats(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _Repeated(keys)
    return dict(pairs)
