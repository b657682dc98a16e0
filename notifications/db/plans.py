"""Planner settings for one read: `with plan_settings(enable_seqscan="off", work_mem="64MB"): rows = list(qs)`.

On PostgreSQL the settings are set transaction-locally (set_config(..., true), as SET LOCAL) in a transaction
the block opens (or a savepoint of the caller's, whose values are put back when the block ends: releasing a
savepoint keeps transaction-local settings); elsewhere (SQLite) the block runs as it is. For the few reads whose
plan the statistics cannot get right, named at the call with the measurement that chose them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def plan_settings(**settings: str) -> Iterator[None]:
    if connection.vendor != "postgresql" or not settings:
        yield
        return
    names = sorted(settings)
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        # One statement: the subquery (fenced by OFFSET 0) reads the values before they are set.
        reads = ", ".join(f"current_setting(%s) AS s{n}" for n in range(len(names)))
        sets = ", ".join("set_config(%s, %s, true)" for _ in names)
        cursor.execute(f"SELECT before.*, {sets} FROM (SELECT {reads} OFFSET 0) AS before",  # noqa: S608 - placeholders only
                       [value for name in names for value in (name, settings[name])] + names)
        previous = cursor.fetchone()[:len(names)]
        yield
        if nested:  # (a block that raised is rolled back to the savepoint, its settings with it)
            cursor.execute("SELECT " + ", ".join("set_config(%s, %s, true)" for _ in names),
                           [value for name, before in zip(names, previous, strict=True) for value in (name, before)])
