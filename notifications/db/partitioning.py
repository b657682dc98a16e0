"""Range partitions by time on PostgreSQL: the mechanics (converting a table, listing, creating and dropping its
partitions). Which tables, how wide and when one goes is decided in history/partitions.py; nothing here knows a
model, so migrations can use it.

A converted table `t` is a parent partitioned by RANGE on one time column, with:
- `t_legacy`: the table as it was, attached as the partition below the first range (MINVALUE to the conversion's
  bound), when it had rows; an empty one is dropped;
- `t_pYYYYMMDD`: a range [lower, upper) each, contiguous;
- `t_default`: the DEFAULT partition, a safety net for a row of a time no range covers yet (a worker that did not
  run for weeks; a clock far off). Normally empty: creating a range whose rows are in it moves them
  (`create_partition`).
A unique constraint of a partitioned table must include its partition column, so the primary key becomes
(id, time) and every unique constraint gets the time column added (same names; ids still come from one
sequence). A bigint id keeps its sequence (PostgreSQL 15 has no identity columns on partitioned tables)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LEGACY, DEFAULT = "legacy", "default"


@dataclass(frozen=True)
class Partition:
    name: str
    lower: datetime | None  # None: MINVALUE (the legacy partition), or the default partition
    upper: datetime | None  # None for the default partition
    is_default: bool = False


def is_partitioned(cursor: Any, table: str) -> bool:
    cursor.execute("SELECT relkind = 'p' FROM pg_class WHERE oid = to_regclass(%s)", [table])
    row = cursor.fetchone()
    return bool(row and row[0])


def partitions(cursor: Any, table: str) -> list[Partition]:
    """The table's partitions, ranges in order of time, the default last."""
    cursor.execute("SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
                   "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(%s)", [table])
    found = []
    for name, bound in cursor.fetchall():
        if bound == "DEFAULT":
            found.append(Partition(name, None, None, is_default=True))
            continue
        lower, upper = re.fullmatch(r"FOR VALUES FROM \((.+)\) TO \((.+)\)", bound).groups()  # type: ignore[union-attr]
        found.append(Partition(name, _moment(lower), _moment(upper)))
    return sorted(found, key=lambda p: (p.is_default, p.lower is not None, p.lower or datetime.min))


def _moment(literal: str) -> datetime | None:
    if literal == "MINVALUE":
        return None
    text = literal.strip("'")
    return datetime.fromisoformat(text + ":00" if re.search(r"[+-]\d\d$", text) else text)


def convert(cursor: Any, table: str, column: str, bound: datetime) -> None:
    """Turn a plain table into one partitioned by RANGE (`column`): its rows stay where they are (the old table
    becomes the partition below `bound`, checked by one scan; dropped when empty), its indexes and constraints
    are made again on the parent by the same names. Run in one transaction (the table is locked throughout)."""
    quote = _quote
    legacy, parent = f"{table}_{LEGACY}", table
    indexes, constraints = _indexes_and_constraints(cursor, table)
    foreign = _foreign_keys(cursor, table)
    sequence = _owned_sequence(cursor, table)
    cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(table)})")  # noqa: S608 - quoted name
    has_rows = cursor.fetchone()[0]
    next_id = None
    if sequence:
        cursor.execute(f"SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM {sequence}")  # noqa: S608 - regclass text
        next_id = cursor.fetchone()[0]
        cursor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN id DROP IDENTITY IF EXISTS")
        cursor.execute(f"ALTER TABLE {quote(table)} ALTER COLUMN id DROP DEFAULT")
    for name in [*(name for name, _ in constraints), *(name for name, _ in indexes)]:
        cursor.execute(f"ALTER INDEX {quote(name)} RENAME TO {quote(_short(name, '_l'))}")
    cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(legacy)}")
    cursor.execute(f"CREATE TABLE {quote(parent)} (LIKE {quote(legacy)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS) "
                   f"PARTITION BY RANGE ({quote(column)})")
    for name, definition in foreign:  # the legacy partition keeps its own (same name): ATTACH takes it as the clone
        cursor.execute(f"ALTER TABLE {quote(parent)} ADD CONSTRAINT {quote(name)} {definition}")
    if next_id is not None:
        own = quote(f"{table}_id_seq")
        cursor.execute(f"DROP SEQUENCE IF EXISTS {own}")
        cursor.execute(f"CREATE SEQUENCE {own} OWNED BY {quote(parent)}.id START {int(next_id)}")
        cursor.execute(f"ALTER TABLE {quote(parent)} ALTER COLUMN id SET DEFAULT nextval('{table}_id_seq')")
    for name, definition in constraints:
        columns = re.fullmatch(r"(PRIMARY KEY|UNIQUE) \((.+)\)", definition)
        if columns is None:
            raise ValueError(f"{table}: constraint {name} ({definition}) cannot be partitioned")
        kind, names = columns.groups()
        listed = [part.strip() for part in names.split(",")]
        if column not in listed and quote(column) not in listed:
            listed.append(quote(column))
        cursor.execute(f"ALTER TABLE {quote(parent)} ADD CONSTRAINT {quote(name)} {kind} ({', '.join(listed)})")
    for _name, definition in indexes:  # CREATE INDEX name ON public.table USING ...: the parent has the name now
        cursor.execute(definition.replace(" CONCURRENTLY", ""))
    if has_rows:  # its own keys give way to the parent's (with the time column: built by the ATTACH)
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {quote(legacy)} DROP CONSTRAINT {quote(_short(name, '_l'))}")
        cursor.execute(f"ALTER TABLE {quote(parent)} ATTACH PARTITION {quote(legacy)} "
                       f"FOR VALUES FROM (MINVALUE) TO (%s)", [bound])
    else:
        cursor.execute(f"DROP TABLE {quote(legacy)}")
    cursor.execute(f"CREATE TABLE {quote(table + '_' + DEFAULT)} PARTITION OF {quote(parent)} DEFAULT")
    _name_indexes_after_parents(cursor, f"{table}_{DEFAULT}", "_default")


def unconvert(cursor: Any, table: str, column: str) -> None:
    """Back to one plain table (the migration's way back): its rows copied into a new table, which gets the
    parent's indexes and its keys without the time column. Run in one transaction."""
    quote = _quote
    indexes, constraints = _indexes_and_constraints(cursor, table)
    foreign = _foreign_keys(cursor, table)
    sequence = _owned_sequence(cursor, table)
    plain = f"{table}_plain"
    cursor.execute(f"LOCK TABLE {quote(table)} IN ACCESS EXCLUSIVE MODE")
    cursor.execute(f"CREATE TABLE {quote(plain)} (LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(f"INSERT INTO {quote(plain)} SELECT * FROM {quote(table)}")  # noqa: S608 - quoted names
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {sequence} OWNED BY NONE")
    cursor.execute(f"DROP TABLE {quote(table)}")
    cursor.execute(f"ALTER TABLE {quote(plain)} RENAME TO {quote(table)}")
    if sequence:
        cursor.execute(f"ALTER SEQUENCE {sequence} OWNED BY {quote(table)}.id")
    for name, definition in constraints:
        kind, names = re.fullmatch(r"(PRIMARY KEY|UNIQUE) \((.+)\)", definition).groups()  # type: ignore[union-attr]
        listed = [part.strip() for part in names.split(",") if part.strip() not in (column, quote(column))]
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {kind} ({', '.join(listed)})")
    for _name, definition in indexes:
        cursor.execute(definition.replace(" ON ONLY ", " ON "))
    for name, definition in foreign:
        cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")


def create_partition(cursor: Any, table: str, column: str, lower: datetime, upper: datetime,
                     lock_timeout_ms: int | None = None) -> str:
    """A new range [lower, upper) of `table`, made on its own and attached: ATTACH takes the parent's SHARE UPDATE
    EXCLUSIVE lock, which inserts and reads pass (CREATE TABLE ... PARTITION OF would take its exclusive lock and
    queue every insert behind a long reader). Rows of that range already in the default partition are moved
    into it; that needs the parent's exclusive lock for a moment (the default is detached meanwhile: PostgreSQL
    would refuse a range whose rows are in the default). `lock_timeout_ms`: how long to wait for a lock before
    giving up (psycopg's LockNotAvailable, an OperationalError)."""
    quote, name, default = _quote, f"{table}_p{lower:%Y%m%d}", f"{table}_{DEFAULT}"
    if lock_timeout_ms is not None:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(lock_timeout_ms)}ms"])
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(default)} WHERE {quote(column)} >= %s "  # noqa: S608 - quoted names
                   f"AND {quote(column)} < %s)", [lower, upper])
    parked = cursor.fetchone()[0]
    if parked:
        cursor.execute(f"ALTER TABLE {quote(table)} DETACH PARTITION {quote(default)}")
    cursor.execute(f"CREATE TABLE {quote(name)} (LIKE {quote(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(name)} FOR VALUES FROM (%s) TO (%s)",
                   [lower, upper])
    _name_indexes_after_parents(cursor, name, f"_p{lower:%Y%m%d}")
    if parked:
        cursor.execute(f"WITH moved AS (DELETE FROM {quote(default)} WHERE {quote(column)} >= %s "  # noqa: S608 - quoted names
                       f"AND {quote(column)} < %s RETURNING *) INSERT INTO {quote(name)} SELECT * FROM moved",
                       [lower, upper])
        cursor.execute(f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(default)} DEFAULT")
    return name


def drop_partition(cursor: Any, table: str, name: str, lock_timeout_ms: int = 2000) -> None:
    """Detach and drop one partition. Waits at most `lock_timeout_ms` for the parent's lock (a long export
    holding it must not queue every insert behind the drop): psycopg's LockNotAvailable then, to retry later."""
    cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{int(lock_timeout_ms)}ms"])
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # deferred foreign-key checks of this transaction's rows first
    cursor.execute(f"ALTER TABLE {_quote(table)} DETACH PARTITION {_quote(name)}")
    cursor.execute(f"DROP TABLE {_quote(name)}")


_INDEX_SQL = re.compile(r'CREATE (?P<unique>UNIQUE )?INDEX "(?P<name>[^"]+)" ON "(?P<table>[^"]+)" (?P<rest>.+)', re.S)


def create_index(cursor: Any, create_sql: str, concurrently: bool = True) -> None:
    """An index made on a partitioned table without blocking its writes: made on the parent alone (ON ONLY:
    not valid yet, no partition's rows read), then on each partition (CONCURRENTLY: inserts and updates go on
    while it is built), named `<index>_<the partition's suffix>`, each attached to it; once every partition's
    is attached, the parent's is valid, and ranges made after it get it by themselves. `create_sql`: the plain
    statement, as Django writes it (`CREATE INDEX "name" ON "table" (...) ...`). CONCURRENTLY runs outside a
    transaction only: `concurrently=False` inside one."""
    found = _INDEX_SQL.fullmatch(create_sql.strip())
    if found is None:
        raise ValueError(f"not a CREATE INDEX statement: {create_sql[:80]}")
    unique, name, table, rest = found.group("unique") or "", found["name"], found["table"], found["rest"]
    how = "CONCURRENTLY " if concurrently else ""
    cursor.execute(f"CREATE {unique}INDEX IF NOT EXISTS {_quote(name)} ON ONLY {_quote(table)} {rest}")
    for part in partitions(cursor, table):
        child = _short(name, part.name[len(table):] if part.name.startswith(table) else f"_{part.name}")
        if _index_valid(cursor, child) is False:  # left by a build that failed: made again
            cursor.execute(f"DROP INDEX {how}{_quote(child)}")
        cursor.execute(f"CREATE {unique}INDEX {how}IF NOT EXISTS {_quote(child)} ON {_quote(part.name)} {rest}")
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(%s))", [child])
        if not cursor.fetchone()[0]:
            cursor.execute(f"ALTER INDEX {_quote(name)} ATTACH PARTITION {_quote(child)}")
    if not _index_valid(cursor, name):
        raise RuntimeError(f"index {name} is not valid after its partitions' were attached: run it again")


def _index_valid(cursor: Any, name: str) -> bool | None:
    """Whether the index is valid; None when there is none by that name."""
    cursor.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [name])
    row = cursor.fetchone()
    return None if row is None else bool(row[0])


def _name_indexes_after_parents(cursor: Any, partition: str, suffix: str) -> None:
    """A partition's indexes renamed `<the parent's index>_<suffix>` (PostgreSQL names them after the columns):
    a plan then says which index it reads, `record_due_idx_p20261203`."""
    cursor.execute("SELECT c.relname, p.relname FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                   "JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent "
                   "WHERE x.indrelid = to_regclass(%s)", [partition])
    for child, parent in cursor.fetchall():
        cursor.execute(f"ALTER INDEX {_quote(child)} RENAME TO {_quote(_short(parent, suffix))}")


def estimated_rows(cursor: Any, name: str) -> int:
    """The planner's row count of one partition (pg_class.reltuples: -1 before its first analyse, then 0)."""
    cursor.execute("SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = to_regclass(%s)", [name])
    row = cursor.fetchone()
    return int(row[0]) if row else 0


def _indexes_and_constraints(cursor: Any, table: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """([(index name, CREATE INDEX ...)] of the indexes no constraint owns, [(constraint, definition)] of the
    primary key and unique constraints)."""
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                   "AND contype IN ('p', 'u') ORDER BY contype, conname", [table])
    constraints = list(cursor.fetchall())
    cursor.execute("SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                   "WHERE x.indrelid = to_regclass(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                   "WHERE c.conindid = i.oid) ORDER BY i.relname", [table])
    return list(cursor.fetchall()), constraints


def _foreign_keys(cursor: Any, table: str) -> list[tuple[str, str]]:
    cursor.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(%s) "
                   "AND contype = 'f' AND conparentid = 0 ORDER BY conname", [table])
    return list(cursor.fetchall())


def _owned_sequence(cursor: Any, table: str) -> str | None:
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    row = cursor.fetchone()
    return row[0] if row else None


def _short(name: str, suffix: str) -> str:
    return name[:63 - len(suffix)] + suffix


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
