"""Text rows inserted or, on a unique key they share with a stored row, written over: one statement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import connection, models

from notifications.db.arrays import text_array_literal
from notifications.db.columns import column, concrete_field


def upsert_text_rows(model: type[models.Model], unique: Sequence[str], fields: Sequence[str],
                     rows: Sequence[Sequence[str]], *, update: Sequence[str], constants: Mapping[str, Any]) -> None:
    """INSERT ... ON CONFLICT (`unique`) DO UPDATE of `update`, on PostgreSQL: `rows` hold text for `fields`
    (one array literal a column, unnested in the statement); `constants` are the same in every row (timestamps,
    a JSON default). The caller keeps the ORM's bulk_create(update_conflicts=True) for other databases.

    Fast path, "upserts without model instances": bulk_create built a model instance a row and prepared each
    value field by field, ~40 us a contact. Intake's contacts written back from payloads (800 in the 20,000
    events of bench/intake_cost.py), process CPU timed around the call: 1.54-1.63 -> 0.27 us an event (two
    alternating pairs)."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = [column(concrete_field(model, name)) for name in (*fields, *constants)]
    quoted = [connection.ops.quote_name(name) for name in names]
    key = ", ".join(connection.ops.quote_name(column(concrete_field(model, name))) for name in unique)
    sets = ", ".join(f"{connection.ops.quote_name(column(concrete_field(model, name)))} = EXCLUDED."
                     f"{connection.ops.quote_name(column(concrete_field(model, name)))}" for name in update)
    arrays = ", ".join(["%s::text[]"] * len(fields))
    values = ", ".join(["%s"] * len(constants))
    params: list[Any] = [concrete_field(model, name).get_db_prep_save(value, connection)
                         for name, value in constants.items()]  # in the select list, before the arrays
    params += [text_array_literal(column_values) for column_values in zip(*rows, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(quoted)}) SELECT u.*, {values} FROM unnest({arrays}) AS u "  # noqa: S608 - quoted names
            f"ON CONFLICT ({key}) DO UPDATE SET {sets}", params)
