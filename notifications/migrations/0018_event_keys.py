"""Dedupe keys move out of the events table into EventKey (issue 20, point 1): the events table becomes
partitioned by time on PostgreSQL (0019), where a unique constraint must include the partition's time and could
no longer say "seen before, whenever". The keys of the events already there are copied (one INSERT ... SELECT,
before the unique index is built: faster than maintaining it row by row)."""

from django.db import migrations, models


def copy_keys(apps, schema_editor):
    event, key = apps.get_model("notifications", "Event"), apps.get_model("notifications", "EventKey")
    quote = schema_editor.connection.ops.quote_name
    schema_editor.execute(
        f"INSERT INTO {quote(key._meta.db_table)} (event_id, tenant_id, dedupe_key) "  # noqa: S608 - model names
        f"SELECT id, tenant_id, dedupe_key FROM {quote(event._meta.db_table)}")


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0017_dashboard_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventKey",
            fields=[
                ("event_id", models.UUIDField(primary_key=True, serialize=False)),
                ("tenant_id", models.CharField(max_length=64)),
                ("dedupe_key", models.CharField(max_length=160)),
            ],
        ),
        migrations.RunPython(copy_keys, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="eventkey",
            constraint=models.UniqueConstraint(fields=("tenant_id", "dedupe_key"), name="event_key_unique"),
        ),
        migrations.RemoveConstraint(
            model_name="event",
            name="event_unique_dedupe_key",
        ),
    ]
