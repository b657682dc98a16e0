"""notifications/db/migration_ops.py: the records table's index changes of 0009-0011 run concurrently on
PostgreSQL (a plain DROP/CREATE INDEX would stop intake and the workers for a whole scan), and the migrations go
back and forth on both databases, leaving the due index with the condition of each side."""

from __future__ import annotations

import subprocess
import sys
from importlib import import_module

import pytest

from notifications.db.migration_ops import (
    AddIndexConcurrentlyOnPostgres,
    RemoveIndexConcurrentlyOnPostgres,
    ReplaceIndexConcurrentlyOnPostgres,
    ReplaceUniqueConstraintConcurrentlyOnPostgres,
)
from tests.shared import ROOT

RECORDS = "notificationrecord"


@pytest.mark.parametrize("name", ["0009_scheduled_and_cancelled_records", "0010_cancel_keys_and_recipient_time",
                                  "0011_digests", "0012_audiences", "0022_rate_counted_index"])
def test_index_changes_on_the_records_table_are_concurrent(name):
    migration = import_module(f"notifications.migrations.{name}").Migration
    on_records = [op for op in migration.operations if getattr(op, "model_name", "") == RECORDS
                  and ("Index" in type(op).__name__ or "Constraint" in type(op).__name__)]
    assert on_records and migration.atomic is False
    concurrent = (AddIndexConcurrentlyOnPostgres, RemoveIndexConcurrentlyOnPostgres, ReplaceIndexConcurrentlyOnPostgres,
                  ReplaceUniqueConstraintConcurrentlyOnPostgres)
    assert all(isinstance(op, concurrent) for op in on_records), on_records


def _migrate(shared_db, target: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "notifications", target, "-v0"],
                   env=shared_db.env, check=True, cwd=ROOT)


def _due_index(shared_db) -> str:
    if shared_db.is_postgres:
        return shared_db.scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'record_due_idx'")
    return shared_db.scalar("SELECT sql FROM sqlite_master WHERE name = 'record_due_idx'")


@pytest.mark.slow
def test_the_migrations_go_back_and_forth(shared_db):
    assert "scheduled" in _due_index(shared_db)
    _migrate(shared_db, "0008")
    assert "scheduled" not in _due_index(shared_db) and "retrying" in _due_index(shared_db)
    _migrate(shared_db, "0011")
    assert "scheduled" in _due_index(shared_db) and "lane" not in _due_index(shared_db)
    _migrate(shared_db, "0012")
    assert "lane" in _due_index(shared_db)
    if shared_db.is_postgres:  # the wider uniqueness is a constraint, on the index built concurrently
        definition = shared_db.scalar("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                                      "WHERE conname = 'record_unique_delivery'")
        assert definition == "UNIQUE (event_id, user_id, channel, recipient)", definition
    if shared_db.is_postgres:  # nothing left of the swap, every index valid
        assert shared_db.scalar("SELECT count(*) FROM pg_indexes WHERE indexname LIKE '%_swap'") == 0
        assert shared_db.scalar("SELECT count(*) FROM pg_index WHERE NOT indisvalid") == 0
