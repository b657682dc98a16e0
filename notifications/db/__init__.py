"""Database helpers for the hot paths (notifications/db/README.md lists each trick, why, and what it gained).
Importing this package registers the `any` lookup and UUIDs'
`version`."""

from __future__ import annotations

from notifications.db.arrays import array_literal, text_array_literal
from notifications.db.copy import append_rows, insert_rows, insert_rows_ignoring_conflicts, json_text, stream_rows
from notifications.db.listen import listening_connection
from notifications.db.loaders import rows_by_ids
from notifications.db.lookups import AnyOf, UuidVersion
from notifications.db.updates import fast_bulk_update
from notifications.db.upsert import upsert_text_rows

__all__ = [
    "AnyOf",
    "UuidVersion",
    "append_rows",
    "array_literal",
    "fast_bulk_update",
    "insert_rows",
    "insert_rows_ignoring_conflicts",
    "json_text",
    "listening_connection",
    "rows_by_ids",
    "stream_rows",
    "text_array_literal",
    "upsert_text_rows",
]
