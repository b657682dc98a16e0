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
