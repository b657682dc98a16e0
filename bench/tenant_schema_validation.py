"""Payload validation for tenant-defined event types: jsonschema-rs (the one used, tenant_types/schemas.py)
against fastjsonschema, on a typical schema (an order: ids, an amount, a currency pattern, a list of items).
Best of 5 runs; fastjsonschema is measured only when it is installed (`pip install fastjsonschema`).

    .venv/bin/python bench/tenant_schema_validation.py"""

from __future__ import annotations

import importlib.util
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

from notifications.tenant_types.schemas import compile_schema, payload_errors

SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["user_id", "order_id", "amount"],
    "properties": {
        "user_id": {"type": ["string", "integer"], "maxLength": 128},
        "order_id": {"type": "string", "minLength": 1, "maxLength": 64},
        "amount": {"type": "number", "minimum": 0},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "items": {"type": "array", "maxItems": 50, "items": {
            "type": "object", "required": ["sku"],
            "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}}},
        "note": {"type": "string", "maxLength": 500},
    },
}
PAYLOAD = {"user_id": "u-1", "order_id": "o-42", "amount": 99.5, "currency": "EUR",
           "items": [{"sku": "a", "qty": 2}, {"sku": "b", "qty": 1}], "note": "leave at the door"}
BAD = {**PAYLOAD, "amount": "x"}


def best_us(function: Callable[[], Any], number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=5)) / number * 1e6


def main() -> None:
    validator = compile_schema(SCHEMA)
    rows = [
        ("jsonschema-rs: valid payload", best_us(lambda: payload_errors(validator, PAYLOAD), 20_000)),
        ("jsonschema-rs: invalid payload, errors named", best_us(lambda: payload_errors(validator, BAD), 20_000)),
        ("jsonschema-rs: compile", best_us(lambda: compile_schema(SCHEMA), 2_000)),
    ]
    if importlib.util.find_spec("fastjsonschema") is not None:
        import fastjsonschema

        compiled = fastjsonschema.compile(SCHEMA)

        def invalid() -> None:
            with contextlib.suppress(fastjsonschema.JsonSchemaValueException):
                compiled(BAD)

        rows += [("fastjsonschema: valid payload", best_us(lambda: compiled(PAYLOAD), 20_000)),
                 ("fastjsonschema: invalid payload", best_us(invalid, 20_000)),
                 ("fastjsonschema: compile", best_us(lambda: fastjsonschema.compile(SCHEMA), 50))]
    for label, micros in rows:
        print(f"{label:48} {micros:10.2f} us")


if __name__ == "__main__":
    main()
