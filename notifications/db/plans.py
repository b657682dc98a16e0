"""Planner settings for one read: `with plan_settings(enable_seqscan="off", work_mem="64MB"): rows = list(qs)`.

On PostgreSQL the settings are set transaction-locally (set_config(..., true), as SET LOCAL) in a transaction
the block opens, or in the caller's, where the values before are put back when the block ends; elsewhere
(SQLite) the block runs as it is. For the few reads whose plan the statistics cannot get right, named at the
call with the measurement that chose them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection, transaction


@contextmanager
def plan_settings(**settings: str) -> Iterator[None]:
    if connection.vendor != "postgresql" or not settings:
        yield
        return
    names = sorted(settings)
    if not connection.in_atomic_block:
        with transaction.atomic(), connection.cursor() as cursor:  # the settings end with this transaction
            _set(cursor, names, settings)
            yield
        return
    # Inside the caller's transaction: set, then put back, without a savepoint of their own (two statements fewer
    # a use; intake runs several a batch). In a transaction a database error aborted nothing can be put back:
    # rolling it back (or back to a savepoint from before this) undoes the settings with it.
    with connection.cursor() as cursor:
        previous = _set(cursor, names, settings)
        try:
            yield
        finally:
            if not _aborted():
                _set(cursor, names, dict(zip(names, previous, strict=True)))


def _aborted() -> bool:
    """Whether the connection's transaction is aborted (PostgreSQL takes no statement but a rollback then)."""
    from psycopg.pq import TransactionStatus

    return bool(connection.connection.info.transaction_status == TransactionStatus.INERROR)


def _set(cursor: Any, names: list[str], settings: dict[str, str]) -> tuple[str, ...]:
    """Sets `settings` transaction-locally (set_config(..., true), as SET LOCAL) in one statement: the subquery
    (fenced by OFFSET 0) reads the values before they are set. Returns those values, in `names` order."""
    reads = ", ".join(f"current_setting(%s) AS s{n}" for n in range(len(names)))
    sets = ", ".join("set_config(%s, %s, true)" for _ in names)
    cursor.execute(f"SELECT before.*, {sets} FROM (SELECT {reads} OFFSET 0) AS before",  # noqa: S608 - placeholders only
                   [value for name in names for value in (name, settings[name])] + names)
    return tuple(cursor.fetchone()[:len(names)])


# Statements by key (ids, a cancel key) on the partitioned history tables: their rows are found through an index,
# never by reading a partition. With statistics taken when the current partition was young (autovacuum analyzes
# at most once a minute; at 10,000 events/s it grows by 600,000 a minute), the planner read the whole partition
# for a secrets purge of 80 events (a seq scan of the events, a hash anti join over the records), 35 ms a
# statement: intake fell to 10,300-10,600 events/s in about half the runs of `bench/run.py --only intake`
# (15,200-16,100 in the others, and before the tables were partitioned), 2026-12-06 (bench/README.md,
# "Intake on partitioned tables").
BY_KEY = {"enable_seqscan": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"}
