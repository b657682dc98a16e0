"""A model's columns as the raw-SQL helpers name them: fields that have a column, their quoted names, the key's type."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


def concrete_field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    """The field `name` of `model` that has a column of its own (not a reverse relation, not a many-to-many)."""
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field) or not field.column:
        raise FieldDoesNotExist(f"{model._meta.label}.{name} has no column")
    return field


def column(field: models.Field[Any, Any]) -> str:
    """The field's column name (None only before the field is attached to a model)."""
    if not field.column:
        raise FieldDoesNotExist(f"{field!r} has no column")
    return field.column


def key_type(model: type[models.Model], connection: BaseDatabaseWrapper) -> str:
    """The SQL type of the model's primary key for a cast (`%s::bigint`, `%s::uuid[]`): its column type
    without size or modifiers, a serial as the integer it holds."""
    pk = model._meta.pk
    if pk is None:  # only an abstract model has none
        raise FieldDoesNotExist(f"{model._meta.label} has no primary key")
    db_type = pk.db_type(connection)
    if not db_type:
        raise FieldDoesNotExist(f"{model._meta.label}.{pk.name} has no column type")
    return db_type.split("(")[0].replace("bigserial", "bigint").replace("serial", "integer")
