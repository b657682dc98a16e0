"""The export's file formats: JSON Lines, CSV and Parquet. Each writer takes the rows of history.export and
writes bytes; JSON Lines and CSV can stream (the API sends them as they are made), Parquet needs a file (its
index is written at the end) and pyarrow (the `parquet` extra)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, BinaryIO

import orjson

from notifications.history.export import COLUMNS, INT_COLUMNS, JSON_COLUMNS, TIME_COLUMNS

JSONL, CSV, PARQUET = "jsonl", "csv", "parquet"
FORMATS = (JSONL, CSV, PARQUET)
STREAMING_FORMATS = (JSONL, CSV)
CONTENT_TYPES = {JSONL: "application/x-ndjson", CSV: "text/csv; charset=utf-8",
                 PARQUET: "application/vnd.apache.parquet"}
#: Bytes gathered before a piece is handed on (the API's response is sent in pieces of about this size).
PIECE = 64 * 1024
#: Rows per Parquet row group: what the writer holds in memory.
ROW_GROUP = 10_000


def _json(value: Any) -> bytes:
    """JSON bytes; integers beyond 64 bits (intake keeps them) go through the standard library, which orjson
    refuses."""
    try:
        return orjson.dumps(value, option=orjson.OPT_UTC_Z)
    except TypeError:
        return json.dumps(value, default=_plain, ensure_ascii=False).encode()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def stream(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[bytes]:
    """The rows as bytes in `fmt` (jsonl or csv), in pieces of about PIECE bytes."""
    if fmt == JSONL:
        lines: Iterator[bytes] = (_json(row) + b"\n" for row in rows)
    elif fmt == CSV:
        lines = _csv_lines(rows)
    else:
        raise ValueError(f"format must be one of {', '.join(STREAMING_FORMATS)} to stream; {fmt!r} is not")
    piece: list[bytes] = []
    size = 0
    for line in lines:
        piece.append(line)
        size += len(line)
        if size >= PIECE:
            yield b"".join(piece)
            piece, size = [], 0
    if piece:
        yield b"".join(piece)


def _csv_lines(rows: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(values: Iterable[Any]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue().encode()

    yield line(COLUMNS)
    for row in rows:
        yield line(_flat(row.get(column), column) for column in COLUMNS)


#: A spreadsheet reads a cell starting with one of these as a formula: such text gets a leading apostrophe.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _flat(value: Any, column: str) -> Any:
    if value is None:
        return ""
    if column in JSON_COLUMNS:
        return _json(value).decode()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def write_parquet(rows: Iterable[dict[str, Any]], out: BinaryIO | str) -> int:
    """The rows into one Parquet file (the union of the kinds' columns, typed), in row groups of ROW_GROUP.
    Returns the number of rows. Raises ImportError naming the extra when pyarrow is not installed."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as err:
        raise ImportError("Parquet export needs pyarrow: pip install 'django-kafka-notifications[parquet]'") from err
    schema = pa.schema([(column, _arrow_type(pa, column)) for column in COLUMNS])
    written = 0
    with pq.ParquetWriter(out, schema) as writer:
        group: list[dict[str, Any]] = []
        for row in rows:
            group.append(row)
            if len(group) >= ROW_GROUP:
                writer.write_table(_table(pa, schema, group))
                written += len(group)
                group = []
        if group or not written:
            writer.write_table(_table(pa, schema, group))
            written += len(group)
    return written


def _arrow_type(pa: Any, column: str) -> Any:
    if column in INT_COLUMNS:
        return pa.int64()
    if column in TIME_COLUMNS:
        return pa.timestamp("us", tz="UTC")
    return pa.string()


def _table(pa: Any, schema: Any, group: list[dict[str, Any]]) -> Any:
    columns = {}
    for column in COLUMNS:
        values = [row.get(column) for row in group]
        if column in JSON_COLUMNS:
            values = [None if value is None else _json(value).decode() for value in values]
        columns[column] = values
    return pa.table(columns, schema=schema)
