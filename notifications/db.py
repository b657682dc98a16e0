"""Database helpers for the hot paths."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import orjson
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone


@models.Field.register_lookup
class AnyOf(models.Lookup):
    """`field__any=values`: `field = ANY(%s)` with one array parameter on PostgreSQL, `IN (...)` elsewhere.
    An IN list of thousands of values (a batch's users) is quoted value by value on the client; the array is
    one parameter."""

    lookup_name = "any"

    def get_prep_lookup(self) -> list[object]:
        values = list(self.rhs)
        field = self.lhs.output_field
        base = field.target_field if field.is_relation else field
        # Strings for a text column are already what the column takes: nothing to prepare one by one (a batch's
        # user ids went through two field methods each, a few microseconds per event). Decided once, here.
        self._text_values = isinstance(base, (models.CharField, models.TextField)) and all(
            type(value) is str for value in values)
        if self._text_values:
            return values
        prep = field.get_prep_value
        return [prep(value) for value in values]

    def as_sql(self, compiler, connection):  # noqa: ANN001, ANN201 - Django's Lookup API
        if connection.vendor != "postgresql":
            return compiler.compile(models.lookups.In(self.lhs, self.rhs))
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if self._text_values:
            # One text parameter: a list is quoted element by element on the client (a batch's thousands of
            # user ids were a tenth of intake's time).
            return f"{lhs} = ANY(%s::text[])", [*lhs_params, text_array_literal(self.rhs)]
        values = [self.lhs.output_field.get_db_prep_value(value, connection, prepared=True) for value in self.rhs]
        return f"{lhs} = ANY(%s)", [*lhs_params, values]


models.ForeignObject.register_lookup(AnyOf)  # relations keep their own lookup table (`tenant_id__any`)


def listening_connection(channel: str):  # noqa: ANN201 - psycopg.Connection
    """A connection of its own (autocommit) on the default PostgreSQL database, LISTENing on `channel`: Django's
    connections are per thread and in transactions, where notifications are not delivered."""
    import psycopg

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    conn = psycopg.connect(**params, autocommit=True)
    conn.execute(f"LISTEN {channel}")
    return conn


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


_DJANGO_JSON = DjangoJSONEncoder()
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def json_text(value: object) -> str:
    """JSON as Django's encoder writes it (dates, decimals, UUIDs alike), ten times faster: orjson, with
    Django's encoder for the values orjson is told to pass through."""
    try:
        return orjson.dumps(value, default=_DJANGO_JSON.default, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        # What orjson refuses and json accepts: integers beyond 64 bits, nesting deeper than 255.
        return json.dumps(value, cls=DjangoJSONEncoder)


def _copy_converter(field: models.Field) -> Callable[[object], object] | None:
    """How a value of `field` goes into COPY, or None for as it is (psycopg adapts it). JSON goes as text;
    timestamps and UUIDs too, memoised, because psycopg's own adaptation of them was three quarters of what a
    COPY row cost (a batch repeats the same few timestamps and event keys)."""
    base = field.target_field if field.is_relation else field
    if isinstance(base, models.JSONField):
        return json_text
    if isinstance(base, models.DateTimeField):
        return _memoised(_timestamp_text)
    if isinstance(base, models.UUIDField):
        return _memoised(_uuid_text)
    return None


_MISSING = object()


def _memoised(convert: Callable[[object], object]) -> Callable[[object], object]:
    memo: dict[object, object] = {}

    def converted(value: object) -> object:
        if type(value) is str:  # text already (a key the caller made as text, say)
            return value
        try:
            result = memo.get(value, _MISSING)
        except TypeError:  # unhashable: let psycopg say what is wrong with it
            return value
        if result is _MISSING:  # a miss is the common case for keys and event times: no exception for it
            memo[value] = result = convert(value)
        return result

    return converted


def _timestamp_text(value: object) -> object:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.isoformat()
    return value  # naive or not a datetime: psycopg's adaptation (and its errors)


def _uuid_text(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value


def _is_auto_time(field: models.Field) -> bool:
    return bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))


def _copy_plan(model: type[models.Model], columns: Sequence[str]) -> tuple[list[models.Field], list[models.Field],
                                                                          list[object]]:
    """(the given fields, the other non-key fields, their values for every row: auto times now, else defaults)."""
    by_name = {field.attname: field for field in model._meta.local_concrete_fields}
    given = [by_name[name] for name in columns]
    rest = [f for f in model._meta.local_concrete_fields if f.attname not in columns and not f.primary_key]
    now = timezone.now()
    constants = []
    for field in rest:
        value = now if _is_auto_time(field) else field.get_default()
        convert = _copy_converter(field)
        constants.append(convert(value) if convert else value)
    return given, rest, constants


def _copy(table: str, fields: Sequence[models.Field], rows: Iterable[Sequence[object]]) -> None:
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in fields)
    # Django's error mapping (the COPY runs on psycopg's own cursor): a lost connection is Django's
    # OperationalError, which intake's callers retry, and a unique violation its IntegrityError.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        with cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _converted(fields: Sequence[models.Field], rows: Sequence[Sequence[object]]) -> Iterable[Sequence[object]]:
    """Rows with their values as COPY takes them (see _copy_converter), converted lazily as COPY writes them."""
    convert = [(i, conv) for i, field in enumerate(fields) if (conv := _copy_converter(field)) is not None]
    if not convert:
        return rows

    def one(row: Sequence[object]) -> list[object]:
        out = list(row)
        for i, conv in convert:
            out[i] = conv(out[i])
        return out

    return (one(row) for row in rows)


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[object]],
                batch_size: int = 1000, *, plain: bool = False) -> list[int]:
    """Insert plain rows of a model with a database-generated integer key and return the keys, in order.

    `columns` are attribute names (`event_id`, not `event`); the model's other fields take their defaults, and
    auto_now / auto_now_add fields the current time. On PostgreSQL the keys come from the sequence in one query
    and the rows go in with COPY: no model instance is built, which made most of intake's time before. Elsewhere
    it is bulk_create. `plain` says the rows hold only text, numbers and None (timestamps as ISO text, UUIDs as
    text, no JSON), which COPY takes as they are: the per-value conversion is skipped."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=batch_size)
        return [obj.pk for obj in objects]
    meta = model._meta
    given, rest, constants = _copy_plan(model, columns)
    with connection.cursor() as cursor:
        # The sequence is looked up once: OFFSET 0 keeps the planner from copying the look-up into every row,
        # where it cost ten times the nextval itself.
        cursor.execute(
            "SELECT nextval(s.seq) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq OFFSET 0) s, "
            "generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        keys = [key for (key,) in cursor.fetchall()]
    tail = tuple(constants)
    _copy(meta.db_table, [meta.pk, *given, *rest],
          ((key, *row, *tail) for key, row in zip(keys, rows if plain else _converted(given, rows), strict=True)))
    return keys


def append_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """insert_rows() for rows whose keys nobody needs back: on PostgreSQL one COPY, keys from the column's
    default (identity); elsewhere bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows], batch_size=1000)
        return
    given, rest, constants = _copy_plan(model, columns)
    tail = tuple(constants)
    _copy(model._meta.db_table, [*given, *rest], ((*row, *tail) for row in _converted(given, rows)))


def insert_rows_ignoring_conflicts(model: type[models.Model], columns: Sequence[str],
                                   rows: Sequence[Sequence[object]], batch_size: int = 500) -> set[object]:
    """Insert rows whose primary key is given (it must be the first column), skipping those that conflict with a
    unique constraint (a concurrent writer got there first). Returns the keys of the rows inserted, as given.

    PostgreSQL: one COPY straight into the table, under a savepoint. Conflicts are rare (a batch redelivered
    after a crash or a rebalance), so only when that COPY hits one are the rows staged (COPY into a session
    table) and moved with one INSERT ... ON CONFLICT DO NOTHING RETURNING.
    Elsewhere: bulk_create(ignore_conflicts=True), then a look-up of which keys made it."""
    if not rows:
        return set()
    meta = model._meta
    assert columns[0] in (meta.pk.attname, "pk")
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model.objects.bulk_create(objects, batch_size=batch_size, ignore_conflicts=True)
        found: list[object] = []
        keys = [row[0] for row in rows]
        for start in range(0, len(keys), batch_size):
            found += model.objects.filter(pk__in=keys[start : start + batch_size]).values_list("pk", flat=True)
        return _as_given(rows, found)
    # The staging table empties at commit: the COPY and the INSERT must share a transaction.
    assert connection.in_atomic_block, "insert_rows_ignoring_conflicts() needs a transaction (atomic())"
    quote = connection.ops.quote_name
    given, rest, constants = _copy_plan(model, [meta.pk.attname, *columns[1:]])
    fields = [*given, *rest]
    names = ", ".join(quote(field.column) for field in fields)
    tail = tuple(constants)
    try:
        with transaction.atomic():  # a savepoint: a failed COPY leaves the batch's transaction usable
            _copy(meta.db_table, fields, ((*row, *tail) for row in _converted(given, rows)))
        return {row[0] for row in rows}
    except IntegrityError:  # _copy maps psycopg's UniqueViolation to it
        pass  # some row is there already: take the slower path that skips it
    stage = quote(f"_stage_{meta.db_table}")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} "
                       f"(LIKE {quote(meta.db_table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {stage}")
    _copy(f"_stage_{meta.db_table}", fields, ((*row, *tail) for row in _converted(given, rows)))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {names} FROM {stage} "
                       f"ON CONFLICT DO NOTHING RETURNING {quote(meta.pk.column)}")
        inserted = _as_given(rows, [key for (key,) in cursor.fetchall()])
        cursor.execute(f"TRUNCATE {stage}")
    return inserted


def _as_given(rows: Sequence[Sequence[object]], keys: Iterable[object]) -> set[object]:
    """Keys read back from the database as the caller gave them (a UUID's text, say, not a UUID)."""
    given = {str(row[0]): row[0] for row in rows}
    return {given.get(str(key), key) for key in keys}


def text_array_literal(values: Iterable[str]) -> str:
    """Strings as one PostgreSQL array literal, every element quoted (so a comma, a brace, a space or the word
    NULL is only text) with its backslashes and double quotes escaped."""
    return "{" + ",".join(['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values]) + "}"


def array_literal(values: Iterable[object]) -> object:
    """Integers or UUIDs as one PostgreSQL array literal ('{1,2,3}', bound as text and cast by the query):
    psycopg adapts a list element by element, a thousand ids cost more to quote than to look up. Anything
    else is returned as a list for psycopg to adapt."""
    values = list(values)
    kinds = set(map(type, values))
    if kinds <= {int, uuid.UUID}:
        return "{" + ",".join(map(str, values)) + "}"
    return values


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
        query = model.objects.filter(pk__in=ids)
        if order_by_pk:
            query = query.order_by("pk")
        return list(query.values_list(*columns))
    fields = [meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    pk = meta.pk
    array_type = pk.db_type(connection).split("(")[0].replace("bigserial", "bigint").replace("serial", "integer")
    sql = (f"SELECT {', '.join(quote(field.column) for field in fields)} FROM {quote(meta.db_table)} "
           f"WHERE {quote(pk.column)} = ANY(%s::{array_type}[])")
    if order_by_pk:
        sql += f" ORDER BY {quote(pk.column)}"
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
