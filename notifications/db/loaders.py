"""Reading plain rows by primary key, with fast loaders for timestamps and JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, models

from notifications.db.arrays import array_literal
from notifications.db.columns import column, concrete_field, key_type


def rows_by_ids(model: type[models.Model], columns: Sequence[str], ids: Iterable[object],
                order_by_pk: bool = False) -> list[tuple]:
    """Plain tuples of `columns` for the rows whose primary key is in `ids`. On PostgreSQL one `= ANY(array)`
    statement (an IN list of a thousand parameters costs more to build and quote than to run), JSON columns
    decoded with orjson; elsewhere values_list()."""
    ids = list(ids)
    if not ids:
        return []
    meta = model._meta
    if connection.vendor != "postgresql":
        query = model._default_manager.filter(pk__in=ids)
        if order_by_pk:
            query = query.order_by("pk")
        return list(query.values_list(*columns))
    fields = [concrete_field(model, name) for name in columns]
    quote = connection.ops.quote_name
    pk = meta.pk
    sql = (f"SELECT {', '.join(quote(column(field)) for field in fields)} FROM {quote(meta.db_table)} "  # noqa: S608 - quoted model names
           f"WHERE {quote(column(pk))} = ANY(%s::{key_type(model, connection)}[])")
    if order_by_pk:
        sql += f" ORDER BY {quote(column(pk))}"
    with connection.cursor() as cursor:
        if settings.USE_TZ:  # without it Django reads naive values, and so must this
            cursor.cursor.adapters.register_loader("timestamptz", _iso_timestamptz_loader())
        ids_param = array_literal(ids)  # integer and UUID keys need no preparing
        if not isinstance(ids_param, str):
            ids_param = array_literal(pk.get_db_prep_value(value, connection) for value in ids)
        cursor.execute(sql, [ids_param])
        rows = cursor.fetchall()
    decoders = [(index, _json_loads) for index, field in enumerate(fields) if isinstance(field, models.JSONField)]
    if not decoders:
        return rows
    decoded = []
    for row in rows:
        row = list(row)
        for index, load in decoders:
            row[index] = load(row[index])
        decoded.append(tuple(row))
    return decoded


@lru_cache(maxsize=1)
def _iso_timestamptz_loader() -> type:
    """A psycopg loader reading timestamptz with datetime.fromisoformat (0.3 us) instead of Django's time zone
    aware loader, a Python subclass of psycopg's (4-5 us a value: a tenth of loading a batch of records). Text
    that is not ISO (another DateStyle, 'infinity') goes to psycopg's own loader. Made on first use: psycopg is
    not imported where the database is SQLite."""
    from psycopg.adapt import Loader
    from psycopg.types.datetime import TimestamptzLoader

    class IsoTimestamptzLoader(Loader):
        def __init__(self, oid: int, context: Any = None) -> None:
            super().__init__(oid, context)
            self._fallback = TimestamptzLoader(oid, context)

        def load(self, data: Any) -> datetime:
            try:
                return datetime.fromisoformat(bytes(data).decode())
            except ValueError:
                return self._fallback.load(data)

    return IsoTimestamptzLoader


def _json_loads(value: object) -> object:
    if value is None or not isinstance(value, (str, bytes)):
        return value
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:  # what orjson refuses and json reads (e.g. integers beyond 64 bits)
        return json.loads(value)
