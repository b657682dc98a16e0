"""A tenant's payload schema: bounded, Draft 2020-12, of type object, never fetching anything; payload errors
name places, never values."""

from __future__ import annotations

import pytest

from notifications.tenant_types.schemas import (
    MAX_SCHEMA_BYTES,
    MAX_SCHEMA_DEPTH,
    MAX_SCHEMA_NODES,
    compile_schema,
    payload_errors,
    schema_problem,
)


def _nested(levels: int) -> dict:
    schema: dict = {"type": "object"}
    inner = schema
    for _ in range(levels):
        inner["properties"] = {"a": {"type": "object"}}
        inner = inner["properties"]["a"]
    return schema


def test_a_plain_object_schema_is_accepted():
    assert schema_problem({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}) is None


@pytest.mark.parametrize("ref", ["https://example.com/schema.json", "http://169.254.169.254/latest/meta-data",
                                 "file:///etc/passwd", "other.json#/x"])
def test_a_remote_reference_is_refused_naming_where_it_is(ref):
    schema = {"type": "object", "properties": {"a": {"$ref": ref}}}

    assert schema_problem(schema) == ("/properties/a/$ref", "only references inside the schema (starting with "
                                                             "'#') are allowed; nothing is ever fetched")


def test_the_validator_never_fetches_even_when_asked_directly():
    with pytest.raises(ValueError, match="Retrieval is disabled"):
        compile_schema({"$ref": "http://127.0.0.1:9/never.json"})


def test_a_local_reference_is_resolved_and_a_missing_one_refused():
    good = {"type": "object", "$defs": {"id": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/id"}}}
    assert schema_problem(good) is None
    _, message = schema_problem({"type": "object", "properties": {"a": {"$ref": "#/$defs/nope"}}})
    assert "does not compile" in message and "/$defs/nope" in message


def test_deep_nesting_is_refused_without_recursion():
    where, message = schema_problem(_nested(50_000))

    assert message == f"the schema is nested deeper than {MAX_SCHEMA_DEPTH} levels"
    assert where.startswith("/properties/a/properties/a")


def test_a_huge_schema_is_refused():
    many = {"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(MAX_SCHEMA_NODES + 1)}}
    assert "more than" in schema_problem(many)[1]
    long_text = {"type": "object", "description": "x" * (MAX_SCHEMA_BYTES + 1)}
    assert schema_problem(long_text) == ("", f"the payload schema is larger than {MAX_SCHEMA_BYTES} bytes of JSON")


@pytest.mark.parametrize(("schema", "where", "says"), [
    ([], "", "must be a JSON object"),
    ({"type": "array"}, "/type", '"type": "object"'),
    ({"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"}, "/$schema", "Draft 2020-12"),
    ({"type": "object", "properties": {"a": {"type": "strin"}}}, "/properties/a/type", "not valid JSON Schema"),
    ({"type": "object", "properties": {"a": {"minLength": -1}}}, "/properties/a/minLength", "not valid JSON Schema"),
])
def test_invalid_schemas_are_named_by_a_pointer(schema, where, says):
    found = schema_problem(schema)

    assert found is not None and found[0] == where and says in found[1]


def test_a_backtracking_pattern_is_refused_or_linear():
    # The regex engine has no look-around or back-references (they can take exponential time).
    assert schema_problem({"type": "object", "properties": {"a": {"type": "string", "pattern": "(a)\\1"}}})
    validator = compile_schema({"type": "object", "properties": {"a": {"type": "string", "pattern": "^(a+)+$"}}})
    assert payload_errors(validator, {"a": "a" * 5_000 + "!"})  # answered at once, not after 2^5000 steps


def test_payload_errors_name_places_and_never_values():
    validator = compile_schema({"type": "object", "required": ["a", "b"], "properties": {"a": {"type": "integer"}}})

    errors = payload_errors(validator, {"a": "secret-value-123"})

    assert errors == ['/: "b" is a required property', '/a: <value> is not of type "integer"']
    assert payload_errors(validator, {"a": 1, "b": 2}) == []
