"""History partitioned by time on PostgreSQL (issue 20, point 1; the rule in history/partitions.py, the SQL in
db/partitioning.py): events by received_at, notification records by created_at, delivery attempts by started_at,
inbox messages by created_at, in ranges of NOTIFICATIONS["PARTITION_DAYS"] (7) days.

An existing database keeps its rows where they are: each table becomes the partition below the end of the current
range (`<table>_legacy`, MINVALUE to that bound), checked by one scan, and gets its primary key and unique
constraints again with the time column (built by this migration: minutes for a table of tens of millions of rows,
with the table locked: notifications/history/README.md, "Partitions"). Stop intake (consumers, API) while 0018 and
0019 run. Its rows are pruned in batches as before, and the partition dropped
once empty. A fresh database gets ranges only. Ranges from the end of the current one onward are made here, then by
`manage.py partitions` and every delivery worker. SQLite keeps plain tables.

Event keys become time-ordered UUIDs made by the model too (utils/ids.py), as intake's have been since ef08eef."""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import migrations, models

import notifications.utils.ids

TABLES = (("notifications_event", "received_at"), ("notifications_notificationrecord", "created_at"),
          ("notifications_deliveryattempt", "started_at"), ("notifications_inappmessage", "created_at"))
AHEAD = 2
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def keys_again(apps, schema_editor):
    """The keys of events written after 0018 by a consumer still running the code before it (which deduped on
    the events' own constraint): stop intake for the migration, and this finds nothing. (`WHERE true`: SQLite
    parses ON CONFLICT after a SELECT only behind a WHERE.)"""
    schema_editor.execute("INSERT INTO notifications_eventkey (event_id, tenant_id, dedupe_key) SELECT id, "
                          "tenant_id, dedupe_key FROM notifications_event WHERE true ON CONFLICT DO NOTHING")


def partition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from notifications.db import partitioning

    step = timedelta(days=int(getattr(settings, "NOTIFICATIONS", {}).get("PARTITION_DAYS", 7)))
    now = datetime.now(UTC)
    bound = EPOCH + step * ((now - EPOCH) // step + 1)  # the end of the current range
    with schema_editor.connection.cursor() as cursor:
        for table, column in TABLES:
            if partitioning.is_partitioned(cursor, table):
                continue
            partitioning.convert(cursor, table, column, bound)
            ranges = [p for p in partitioning.partitions(cursor, table) if not p.is_default]
            lower = bound if ranges else bound - step  # with no legacy partition, the current range too
            while lower < bound + step * AHEAD:
                partitioning.create_partition(cursor, table, column, lower, lower + step)
                lower += step


def unpartition(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from notifications.db import partitioning

    with schema_editor.connection.cursor() as cursor:
        for table, column in TABLES:
            if partitioning.is_partitioned(cursor, table):
                partitioning.unconvert(cursor, table, column)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0018_event_keys"),
    ]

    operations = [
        migrations.AlterField(
            model_name="event",
            name="id",
            field=models.UUIDField(default=notifications.utils.ids.uuid7, editable=False, primary_key=True,
                                   serialize=False),
        ),
        migrations.RunPython(keys_again, migrations.RunPython.noop),
        migrations.RunPython(partition, unpartition),
    ]
