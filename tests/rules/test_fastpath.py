"""The fast path (rules.fastpath) answers only as CEL would: every condition of the table is run on both, on
each set of values, and where the fast path answers, CEL gives the same answer (and no error)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import cel
import pytest

from notifications.rules.conditions import compile_condition
from notifications.rules.fastpath import Fallback, compile_fast
from notifications.rules.values import cel_value

CONDITIONS = [
    "payload.amount > 1000", "payload.amount >= 1000.5", "payload.amount == 1500", "payload.amount != 20",
    "-5 < payload.amount", 'payload.currency == "USD"', "payload.currency < 'V'", 'payload.plan in ["free", "trial"]',
    'has(payload.plan) && payload.plan == "free"', "has(payload.plan) || payload.amount > 1",
    '!has(metadata.plan)', 'has(metadata.plan) && metadata.plan == "free"', 'payload["user-plan"] == "x"',
    'payload.title.startsWith("Draft")', 'payload.title.endsWith("!")', 'payload.title.contains("bot")',
    'payload.flag', '!payload.flag', 'payload.flag == true', 'payload.nested.level > 2',
    'has(payload.nested.level)', 'payload.due < timestamp("2027-01-01T00:00:00Z")', 'payload.missing == 1',
    'payload.amount == "1500"', 'payload.amount > "a"', 'payload.title && true', 'false && payload.missing',
    'payload.missing || true', 'event_type == "invoice.payment.failed" && tenant_id == "acme"',
    'recipient.has_email && recipient.locale.startsWith("de")', 'payload.none == null', '(payload.amount > 1)',
    "payload.tags == []", "payload.amount", "payload.count > 2 && payload.count < 4",
]
PAYLOADS = [
    {"amount": 1500, "currency": "USD", "title": "Draft by bot!", "flag": True, "nested": {"level": 3},
     "due": datetime(2026, 6, 1, tzinfo=UTC), "none": None, "count": 3, "tags": []},
    {"amount": Decimal("999.50"), "currency": "EUR", "plan": "free", "user-plan": "x", "title": "Final",
     "flag": False, "nested": {}, "due": datetime(2028, 1, 1, tzinfo=UTC), "count": 3.0},
    {"amount": 20.0, "plan": 7, "title": 5, "flag": "yes", "nested": "flat", "due": "2026-01-01", "count": "3"},
    {},
]
METADATA = [{}, {"plan": "free"}, {"plan": 1}]


def cel_answer(condition, values) -> object:
    try:
        return condition.program.execute(cel.Context(variables={k: cel_value(v) for k, v in values.items()}))
    except Exception:  # noqa: BLE001 - CEL's errors
        return "error"


@pytest.mark.parametrize("text", CONDITIONS)
def test_the_fast_path_agrees_with_cel(text):
    condition = compile_condition(text)
    assert condition.fast is not None, text
    answered = 0
    for payload in PAYLOADS:
        for metadata in METADATA:
            values = {"payload": payload, "metadata": metadata, "event_type": "invoice.payment.failed",
                      "tenant_id": "acme", "recipient": {"has_email": True, "locale": "de-AT", "timezone": "",
                                                         "has_phone": False}}
            expected = cel_answer(condition, values)
            try:
                fast = condition.fast(values)
            except Fallback:
                continue
            answered += 1
            assert fast is expected, (text, payload, metadata, fast, expected)
    assert answered or text in NEVER_FAST, text


NEVER_FAST = {'payload.amount == "1500"', 'payload.amount > "a"', "payload.tags == []", "payload.amount",
              'payload.title && true', "payload.missing == 1", "payload.missing || true"}


@pytest.mark.parametrize("text", [
    "size(payload.items) > 1", "payload.items[0] == 1", "1 + 2 == 3",
    'payload.a == "esc\\"aped"', "payload.a ? 1 : 2", "[1, 2].exists(x, x > 1)", "int(payload.a) > 1",
    "!" * 9 + "true", 'r"raw" == payload.a', "0x1F == 31u",
])
def test_what_only_cel_takes(text):
    assert compile_fast(text) is None
