"""Database helpers for the hot paths."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, connections, models


def fast_bulk_update(objects: Sequence[models.Model], fields: Sequence[str], chunk: int = 1000) -> None:
    """Write `fields` of many rows by primary key in a few statements. Django's bulk_update builds one CASE
    expression per field and row, which costs milliseconds per row in Python; this sends plain values:
    `UPDATE ... FROM (VALUES ...)` on PostgreSQL, a prepared executemany elsewhere."""
    if not objects:
        return
    model = type(objects[0])
    meta = model._meta
    pk = meta.pk
    columns = [meta.get_field(name) for name in fields]
    table = connection.ops.quote_name(meta.db_table)
    quote = connection.ops.quote_name

    def values(obj: models.Model) -> list[object]:
        return [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in columns]

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            casts = [f"%s::{pk.db_type(connection).split('(')[0].replace('serial', 'integer')}"]
            casts += [f"%s::{field.cast_db_type(connection)}" for field in columns]
            row = "(" + ", ".join(casts) + ")"
            names = ", ".join([quote("pk_")] + [quote(field.column) for field in columns])
            assignments = ", ".join(f"{quote(field.column)} = v.{quote(field.column)}" for field in columns)
            for start in range(0, len(objects), chunk):
                part = objects[start : start + chunk]
                params: list[object] = []
                for obj in part:
                    params.append(pk.get_db_prep_value(obj.pk, connection))
                    params.extend(values(obj))
                cursor.execute(
                    f"UPDATE {table} AS t SET {assignments} FROM (VALUES {', '.join([row] * len(part))}) "
                    f"AS v({names}) WHERE t.{quote(pk.column)} = v.{quote('pk_')}",
                    params,
                )
        else:
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {quote(pk.column)} = %s",
                [[*values(obj), pk.get_db_prep_value(obj.pk, connection)] for obj in objects],
            )


def _copy_value_getters(fields: Sequence[models.Field]) -> list[Callable[[models.Model], object]]:
    """Per field, how to turn an object's attribute into a COPY value: plain values go as they are (psycopg
    adapts them), JSON as text; anything else through the field's own get_db_prep_save."""
    conn = connections["default"]
    getters: list[Callable[[models.Model], object]] = []
    for field in fields:
        attname = field.attname
        if isinstance(field, models.JSONField):
            getters.append(lambda obj, a=attname: json.dumps(getattr(obj, a), cls=DjangoJSONEncoder))
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            getters.append(lambda obj, f=field: f.pre_save(obj, True))
        elif isinstance(field, (models.CharField, models.TextField, models.IntegerField, models.BooleanField,
                                models.DateTimeField, models.UUIDField, models.ForeignKey, models.AutoField,
                                models.BigAutoField)):
            getters.append(lambda obj, a=attname: getattr(obj, a))
        else:
            getters.append(lambda obj, f=field: f.get_db_prep_save(f.pre_save(obj, True), conn))
    return getters


def copy_rows(table: str, fields: Sequence[models.Field], objects: Sequence[models.Model]) -> None:
    quote = connection.ops.quote_name
    getters = _copy_value_getters(fields)
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            for obj in objects:
                copy.write_row([get(obj) for get in getters])


def fast_bulk_insert(objects: Sequence[models.Model], batch_size: int = 1000) -> None:
    """Insert rows of one model with database-generated integer keys, setting `pk` on each object.

    On PostgreSQL the keys are taken from the sequence in one query and the rows go in with COPY, several
    times faster than Django's bulk_create, whose per-value SQL compilation dominates large batches. Elsewhere
    it is bulk_create."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    meta = model._meta
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(objects)],
        )
        for obj, (key,) in zip(objects, cursor.fetchall(), strict=True):
            obj.pk = key
    copy_rows(meta.db_table, list(meta.local_concrete_fields), objects)
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias


def fast_bulk_insert_ignoring_conflicts(objects: Sequence[models.Model], batch_size: int = 500) -> None:
    """Insert rows whose keys are set already, skipping those that conflict with a unique constraint (a
    concurrent writer got there first). PostgreSQL: COPY into a session staging table, then one
    INSERT ... ON CONFLICT DO NOTHING. Elsewhere: bulk_create(ignore_conflicts=True)."""
    if not objects:
        return
    model = type(objects[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size, ignore_conflicts=True)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    stage = f"_stage_{meta.db_table}"
    fields = list(meta.local_concrete_fields)
    columns = ", ".join(quote(field.column) for field in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {quote(stage)} "
                       f"(LIKE {quote(meta.db_table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {quote(stage)}")
    copy_rows(stage, fields, objects)
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {columns} FROM {quote(stage)} "
                       "ON CONFLICT DO NOTHING")
        cursor.execute(f"TRUNCATE {quote(stage)}")
