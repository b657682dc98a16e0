"""Indexes for the operator dashboard on a long history (issue 20, point 6; bench/history_queries.py): the latest
failures through a partial index of failed records, and the last hours' records through a BRIN index on
created_at (PostgreSQL only: a few pages for the whole table, next to nothing to maintain on insert, because rows
arrive in created_at order; SQLite has no BRIN and scans). `autosummarize`: each filled range of pages is
summarized by autovacuum soon after (a range not summarized yet is read whole by every query, as a fresh table's
all are until its first vacuum)."""

from django.db import migrations, models

from notifications.db.migration_ops import AddIndexConcurrentlyOnPostgres

BRIN = "record_created_brin"


def add_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {BRIN} ON notifications_notificationrecord "
                              "USING brin (created_at) WITH (autosummarize = on)")


def drop_brin(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {BRIN}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("notifications", "0016_erasure"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="notificationrecord",
            index=models.Index(condition=models.Q(("status", "failed")), fields=["updated_at"],
                               name="record_failed_idx"),
        ),
        migrations.RunPython(add_brin, drop_brin),
    ]
