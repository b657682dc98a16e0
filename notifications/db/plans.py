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


# Statements by key (ids, a cancel key) on the partitioned history tables: their rows are found through an index,
# never by reading a partition. With statistics taken when the current partition was young (autovacuum analyzes
# at most once a minute; at 10,000 events/s it grows by 600,000 a minute), the planner read the whole partition
# for a secrets purge of 80 events (a seq scan of the events, a hash anti join over the records), 35 ms a
# statement: intake fell to 10,300-10,600 events/s in about half the runs of `bench/run.py --only intake`
# (15,200-16,100 in the others, and before the tables were partitioned), 2026-12-06 (bench/README.md,
# "Intake on partitioned tables").
BY_KEY = {"enable_seqscan": "off", "enable_hashjoin": "off", "enable_mergejoin": "off"}
