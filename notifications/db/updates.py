"""Writing fields of many rows by primary key in a few statements."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from notifications.db.columns import column, concrete_field, key_type
from notifications.db.plans import BY_KEY, plan_settings


def fast_bulk_update(objects: Sequence[models.Model], fields: Sequence[str], chunk: int = 1000) -> None:
    """Write `fields` of many rows by primary key in a few statements. Django's bulk_update builds one CASE
    expression per field and row, which costs milliseconds per row in Python; this sends plain values:
    `UPDATE ... FROM (VALUES ...)` on PostgreSQL, a prepared executemany elsewhere."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    pk = meta.pk
    columns = [concrete_field(model, name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    quote = connection.ops.quote_name

    def values(obj: models.Model) -> list[Any]:  # database values, as get_db_prep_save makes them
        return [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            casts = [f"%s::{key_type(model, connection)}"]
            casts += [f"%s::{field.cast_db_type(connection)}" for field in columns]
            row = "(" + ", ".join(casts) + ")"
            names = ", ".join([quote("pk_")] + [quote(column(field)) for field in columns])
            assignments = ", ".join(f"{quote(column(field))} = v.{quote(column(field))}" for field in columns)
            with plan_settings(**BY_KEY):  # each row by its key, whatever the statistics say (set once a call)
                for start in range(0, len(objects), chunk):
                    part = objects[start : start + chunk]
                    params: list[Any] = []
                    for obj in part:
                        params.append(pk.get_db_prep_value(obj.pk, connection))
                        params.extend(values(obj))
                    cursor.execute(
                        f"UPDATE {table} AS t SET {assignments} FROM (VALUES {', '.join([row] * len(part))}) "  # noqa: S608 - quoted model names
                        f"AS v({names}) WHERE t.{quote(column(pk))} = v.{quote('pk_')}",
                        params,
                    )
        else:
            assignments = ", ".join(f"{quote(column(field))} = %s" for field in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {quote(column(pk))} = %s",  # noqa: S608 - quoted names
                [[*values(obj), pk.get_db_prep_value(obj.pk, connection)] for obj in objects],
            )
