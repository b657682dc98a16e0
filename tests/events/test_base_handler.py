from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_typed_payload_is_what_model_dump_gives_flat_or_nested():
    from datetime import datetime
    from decimal import Decimal

    from pydantic import BaseModel, field_serializer

    from notifications.events.base_handler import BaseEventHandler, EventPayload

    class Inner(BaseModel):
        at: datetime

    class Flat(EventPayload):
        amount: Decimal
        at: datetime | None = None

    class Nested(EventPayload):
        inner: Inner | None = None

    class Serialized(EventPayload):
        amount: Decimal

        @field_serializer("amount")
        def _twice(self, value: Decimal) -> Decimal:
            return value * 2

    from typing import Annotated, NamedTuple

    from pydantic import ConfigDict, Field, PlainSerializer

    class Excluded(EventPayload):
        amount: Decimal | None = Field(default=None, exclude=True)

    class AnnotatedSerializer(EventPayload):
        amount: Annotated[Decimal, PlainSerializer(lambda value: str(value))]

    class ByAlias(EventPayload):
        model_config = ConfigDict(serialize_by_alias=True)
        amount: Decimal = Field(alias="amount", serialization_alias="total")

    class Pair(NamedTuple):
        left: int
        right: int

    class Tupled(EventPayload):
        pair: Pair | None = None

    raw = {"amount": "1.50", "at": "2026-11-24T09:00:00Z", "inner": {"at": "2026-11-24T09:00:00Z"}, "extra": [1],
           "pair": [1, 2]}
    for model in (Flat, Nested, Serialized, Excluded, AnnotatedSerializer, ByAlias, Tupled):
        handler = type("H", (BaseEventHandler,), {"payload_model": model, "event_types": ("x.y",)})()
        stored, typed = handler.parse_payload("x.y", dict(raw))
        expected = model.model_validate(dict(raw))
        assert typed == expected.model_dump(), model.__name__
        assert stored == expected.model_dump(mode="json"), model.__name__
        if model not in (Excluded, ByAlias):  # their stored form is not their input form
            assert handler.load_payload(stored) == model.model_validate(stored).model_dump(), model.__name__
    assert isinstance(Nested.model_validate(raw).model_dump()["inner"], dict)


def test_stored_payload_is_model_dump_json_on_the_fast_path_and_off_it():
    """parse_payload's "stored as its fields" fast path: the stored form equals model_dump(mode="json"), key
    order included, whether the fast path is taken (JSON-native fields, a non-native one unset, no extras) or
    not (a timestamp or a float set, extras given)."""
    import json
    from datetime import datetime
    from typing import Annotated, Literal

    from pydantic import Field

    from notifications.events.base_handler import BaseEventHandler, EventPayload, _not_json_native

    class Plain(EventPayload):
        user_id: str
        count: int = 0
        flag: bool | None = None
        kind: Literal["a", "b"] = "a"
        name: Annotated[str, Field(max_length=10)] | None = None
        at: datetime | None = None
        ratio: float | None = None

    assert _not_json_native(Plain) == ("at", "ratio")
    handler = type("H", (BaseEventHandler,), {"payload_model": Plain, "event_types": ("x.y",)})()
    for raw in ({"user_id": 7, "count": 2, "flag": True, "kind": "b", "name": " n "},
                {"user_id": "u", "at": "2026-11-24T09:00:00Z"},
                {"user_id": "u", "ratio": 1e308 * 10},
                {"user_id": "u", "extra": {"at": datetime(2026, 1, 1)}}):
        stored, typed = handler.parse_payload("x.y", dict(raw))
        expected = Plain.model_validate(dict(raw))
        assert json.dumps(stored) == json.dumps(expected.model_dump(mode="json")), raw
        assert typed == expected.model_dump(), raw
        assert typed is not stored
