"""Rows into a table with COPY (PostgreSQL) instead of model instances and INSERTs; bulk_create elsewhere."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

import orjson
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from notifications.db.columns import column

_DJANGO_JSON = DjangoJSONEncoder()
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def json_text(value: object) -> str:
    """JSON as Django's encoder writes it (dates, decimals, UUIDs alike), ten times faster: orjson, with
    Django's encoder for the values orjson is told to pass through. An empty object (an event's usual metadata)
    is written without a call (0.16 -> 0.07 us, timeit)."""
    if type(value) is dict and not value:
        return "{}"
    try:
        return orjson.dumps(value, default=_DJANGO_JSON.default, option=_ORJSON_OPTIONS).decode()
    except orjson.JSONEncodeError:
        # What orjson refuses and json accepts: integers beyond 64 bits, nesting deeper than 255.
        return json.dumps(value, cls=DjangoJSONEncoder)


def _copy_converter(field: models.Field) -> Callable[[object], object] | None:
    """How a value of `field` goes into COPY, or None for as it is (psycopg adapts it). JSON goes as text;
    timestamps and UUIDs too, memoised, because psycopg's own adaptation of them was three quarters of what a
    COPY row cost (a batch repeats the same few timestamps and event keys)."""
    base = field.target_field if isinstance(field, models.ForeignKey) else field
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
    names = ", ".join(quote(column(field)) for field in fields)
    # Django's error mapping (the COPY runs on psycopg's own cursor): a lost connection is Django's
    # OperationalError, which intake's callers retry, and a unique violation its IntegrityError.
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _copy_rows(fields: Sequence[models.Field], rows: Sequence[Sequence[object]], tail: Sequence[object],
               keys: Sequence[object] | None = None) -> Iterable[Sequence[object]]:
    """The rows as COPY takes them: the key first when `keys` are given, then the row's values converted as
    _copy_converter says for `fields`, then `tail`, the values every row shares.

    Fast path, "rows made by zip": the rows are turned into columns and back by zip(), in C, and a column is
    converted by map(), where a Python generator built every row ((key, *row, *tail), and a list a row to
    convert it in). 2,000 event rows: 1.12 -> 0.87 us a row (best of 30 interleaved runs). Rows that need no
    conversion (insert_rows(plain=True)) keep the generator: for them the zip was slower (0.13 -> 0.16 us)."""
    count = len(rows)
    columns: list[Iterable[object]] = list(zip(*rows, strict=True))
    for i, field in enumerate(fields):
        conv = _copy_converter(field)
        if conv is not None:
            columns[i] = map(conv, columns[i])
    first = [keys] if keys is not None else []
    return zip(*first, *columns, *([value] * count for value in tail), strict=True)


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
        model._default_manager.bulk_create(objects, batch_size=batch_size)
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
          ((key, *row, *tail) for key, row in zip(keys, rows, strict=True)) if plain
          else _copy_rows(given, rows, tail, keys))
    return keys


def append_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """insert_rows() for rows whose keys nobody needs back: on PostgreSQL one COPY, keys from the column's
    default (identity); elsewhere bulk_create."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects, batch_size=1000)
        return
    given, rest, constants = _copy_plan(model, columns)
    _copy(model._meta.db_table, [*given, *rest], _copy_rows(given, rows, constants))


def stream_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """append_rows() for plain rows (insert_rows(plain=True): text, numbers, None) made while they are sent. On
    PostgreSQL one COPY takes each row as `rows` yields it, and psycopg sends them every few dozen kilobytes: the
    server inserts while the caller still makes the next rows, where a COPY after the last row left one of the two
    waiting for the other (nothing else may use the connection until `rows` is done). Elsewhere bulk_create."""
    if connection.vendor != "postgresql":
        append_rows(model, columns, list(rows))
        return
    given, rest, constants = _copy_plan(model, columns)
    tail = tuple(constants)
    _copy(model._meta.db_table, [*given, *rest], ((*row, *tail) for row in rows))


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
    if columns[0] not in (meta.pk.attname, "pk"):
        raise ValueError(f"the first column must be the primary key {meta.pk.attname!r}, not {columns[0]!r}")
    if connection.vendor != "postgresql":
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects, batch_size=batch_size, ignore_conflicts=True)
        found: list[object] = []
        keys = [row[0] for row in rows]
        for start in range(0, len(keys), batch_size):
            found += model._default_manager.filter(pk__in=keys[start : start + batch_size]).values_list("pk", flat=True)
        return _as_given(rows, found)
    # The staging table empties at commit: the COPY and the INSERT must share a transaction.
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("insert_rows_ignoring_conflicts() needs a transaction (atomic())")
    quote = connection.ops.quote_name
    given, rest, constants = _copy_plan(model, [meta.pk.attname, *columns[1:]])
    fields = [*given, *rest]
    names = ", ".join(quote(column(field)) for field in fields)
    try:
        with transaction.atomic():  # a savepoint: a failed COPY leaves the batch's transaction usable
            _copy(meta.db_table, fields, _copy_rows(given, rows, constants))
        return {row[0] for row in rows}
    except IntegrityError:  # _copy maps psycopg's UniqueViolation to it
        pass  # some row is there already: take the slower path that skips it
    stage = quote(f"_stage_{meta.db_table}")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} "
                       f"(LIKE {quote(meta.db_table)} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {stage}")
    _copy(f"_stage_{meta.db_table}", fields, _copy_rows(given, rows, constants))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT {names} FROM {stage} "  # noqa: S608 - quoted model names
                       f"ON CONFLICT DO NOTHING RETURNING {quote(column(meta.pk))}")
        inserted = _as_given(rows, [key for (key,) in cursor.fetchall()])
        cursor.execute(f"TRUNCATE {stage}")
    return inserted


def _as_given(rows: Sequence[Sequence[object]], keys: Iterable[object]) -> set[object]:
    """Keys read back from the database as the caller gave them (a UUID's text, say, not a UUID)."""
    given = {str(row[0]): row[0] for row in rows}
    return {given.get(str(key), key) for key in keys}
