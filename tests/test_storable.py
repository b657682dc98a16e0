"""The one definition of storable text and JSON."""

from __future__ import annotations

from typing import Annotated, get_args

import pytest
from pydantic import BaseModel, ValidationError

from notifications.storable import JSON_MAX_ITEMS, Storable, UserId, json_object, json_problem, text, unstorable


class Model(BaseModel):
    name: text(10, min_length=1)
    data: json_object(max_items=5, max_text=50, max_depth=2) = {}


@pytest.mark.parametrize("value", ["a\x00", "\ud800", "b\udfff", "x" * 11, ""])
def test_text_refuses_nul_surrogates_and_lengths(value):
    with pytest.raises(ValidationError) as raised:
        Model(name=value)
    assert raised.value.errors()[0]["loc"] == ("name",)


class Typed(BaseModel):
    name: Annotated[str, Storable(10, min_length=1)]


@pytest.mark.parametrize("value", ["a\x00", "\ud800", "b\udfff", "x" * 11, ""])
def test_the_storable_annotation_refuses_what_text_refuses(value):
    with pytest.raises(ValidationError) as typed:
        Typed(name=value)
    with pytest.raises(ValidationError) as built:
        Model(name=value)
    assert typed.value.errors()[0]["type"] == built.value.errors()[0]["type"]
    assert Typed(name="Zoë 👋").name == "Zoë 👋"


def test_the_storable_annotation_checks_lengths_before_scanning():
    with pytest.raises(ValidationError) as raised:
        Typed(name="\x00" * 11)
    assert raised.value.errors()[0]["type"] == "string_too_long"


def test_the_named_shapes_are_str_to_a_type_checker():
    assert get_args(UserId)[0] is str and isinstance(get_args(UserId)[1], Storable)


def test_text_keeps_ordinary_unicode():
    assert Model(name="Zoë 👋").name == "Zoë 👋"
    assert not unstorable("Zoë 👋\n\t") and unstorable("\x00") and unstorable("\udc00")


@pytest.mark.parametrize("data,problem", [
    ({"a\x00": 1}, "NUL"), ({"a": ["\ud800"]}, "NUL"), ({"a": {"b": {"c": 1}}}, "deeper"),
    ({str(i): i for i in range(6)}, "entries"), ({"a": "x" * 51}, "characters"), ({"a": 2**70}, "64 bits"),
    ({"a": float("nan")}, "finite"),
])
def test_json_refuses_unstorable_and_unbounded_values(data, problem):
    with pytest.raises(ValidationError) as raised:
        Model(name="n", data=data)
    assert problem in str(raised.value)


def test_json_defaults_bound_entries_and_stop_early():
    assert json_problem({"k": list(range(JSON_MAX_ITEMS))}) is not None
    assert json_problem({"k": [1, "two", None, True, 2.5, {"x": []}]}) is None
