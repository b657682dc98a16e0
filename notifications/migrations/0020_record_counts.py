"""Records counted by hour, tenant, channel, status and reason (observability/record_counts.py), kept by triggers
on the records table, for the dashboard: its window was a GROUP BY over every record of the window (349-365 ms for
a day at 20,000,000 records, issue 20 point 6).

The triggers are made first and the counts filled from the records after, in the migration's transaction: the
triggers' lock (SHARE ROW EXCLUSIVE) holds writes to the records until it commits, so no record is counted twice
or missed. Filling reads the whole table once (one GROUP BY: 9.7 s at 20,000,000 records, bench/README.md "History with
hourly record counts").
Stop intake and the workers while it runs on a large table, as for 0018 and 0019."""

from django.db import migrations, models

RECORDS, COUNTS = "notifications_notificationrecord", "notifications_recordcount"
#: The triggers' names: record_count_<kind> (SQLite has no TRUNCATE).
TRIGGERS = ("insert", "update", "delete", "truncate")
KEY = "hour, tenant_id, channel, status, reason"

# PostgreSQL: one trigger per kind of statement (a trigger with transition tables fires on one kind only), one
# function for the three. Each statement's rows are grouped by their created_at first (a batch's records share
# a handful of times), the hour computed per group, not per row: a fan-out of 1,000,000 recipients wrote
# 29,489 recipients/s with date_trunc per row, 33,396 so, 36,332 without the triggers (bench/README.md). Each
# connection adds to rows of its own writer (its backend pid), in key order.
POSTGRESQL = ["""
CREATE FUNCTION notifications_count_records() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO notifications_recordcount AS c (hour, tenant_id, channel, status, reason, writer, n)
        SELECT date_trunc('hour', created_at, 'UTC'), tenant_id, channel, status, reason, pg_backend_pid(), sum(n)
        FROM (SELECT created_at, tenant_id, channel, status, reason, count(*) AS n FROM new_rows
              GROUP BY 1, 2, 3, 4, 5) AS made
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (hour, tenant_id, channel, status, reason, writer) DO UPDATE SET n = c.n + excluded.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO notifications_recordcount AS c (hour, tenant_id, channel, status, reason, writer, n)
        SELECT date_trunc('hour', created_at, 'UTC'), tenant_id, channel, status, reason, pg_backend_pid(), -sum(n)
        FROM (SELECT created_at, tenant_id, channel, status, reason, count(*) AS n FROM old_rows
              GROUP BY 1, 2, 3, 4, 5) AS gone
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (hour, tenant_id, channel, status, reason, writer) DO UPDATE SET n = c.n + excluded.n;
    ELSE
        INSERT INTO notifications_recordcount AS c (hour, tenant_id, channel, status, reason, writer, n)
        SELECT date_trunc('hour', created_at, 'UTC'), tenant_id, channel, status, reason, pg_backend_pid(), sum(n)
        FROM (SELECT created_at, tenant_id, channel, status, reason, sum(d) AS n
              FROM (SELECT created_at, tenant_id, channel, status, reason, 1 AS d FROM new_rows
                    UNION ALL SELECT created_at, tenant_id, channel, status, reason, -1 FROM old_rows) AS both_sides
              GROUP BY 1, 2, 3, 4, 5) AS moved
        GROUP BY 1, 2, 3, 4, 5 HAVING sum(n) <> 0 ORDER BY 1, 2, 3, 4, 5
        ON CONFLICT (hour, tenant_id, channel, status, reason, writer) DO UPDATE SET n = c.n + excluded.n;
    END IF;
    RETURN NULL;
END $$""",
    """
CREATE FUNCTION notifications_forget_record_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM notifications_recordcount;
    RETURN NULL;
END $$""",
    f"CREATE TRIGGER record_count_insert AFTER INSERT ON {RECORDS} "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_count_records()",
    f"CREATE TRIGGER record_count_update AFTER UPDATE ON {RECORDS} "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION notifications_count_records()",
    f"CREATE TRIGGER record_count_delete AFTER DELETE ON {RECORDS} "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION notifications_count_records()",
    f"CREATE TRIGGER record_count_truncate AFTER TRUNCATE ON {RECORDS} "
    "FOR EACH STATEMENT EXECUTE FUNCTION notifications_forget_record_counts()",
    f"INSERT INTO {COUNTS} ({KEY}, writer, n) "  # noqa: S608 - the tables' names
    f"SELECT date_trunc('hour', created_at, 'UTC'), tenant_id, channel, status, reason, 0, count(*) "
    f"FROM {RECORDS} GROUP BY 1, 2, 3, 4, 5",
]
POSTGRESQL_BACK = [*(f"DROP TRIGGER record_count_{kind} ON {RECORDS}" for kind in TRIGGERS),
                   "DROP FUNCTION notifications_count_records()", "DROP FUNCTION notifications_forget_record_counts()"]

# SQLite: row-level triggers (no transition tables there). Django writes datetimes as 'YYYY-MM-DD HH:MM:SS[.f]' in
# UTC, so the hour is the first 13 characters.
HOUR = "substr({row}.created_at, 1, 13) || ':00:00'"
ADD = (f"INSERT INTO {COUNTS} ({KEY}, writer, n) VALUES ({HOUR}, {{row}}.tenant_id, {{row}}.channel, "  # noqa: S608
       f"{{row}}.status, {{row}}.reason, 0, {{d}}) ON CONFLICT ({KEY}, writer) DO UPDATE SET n = n + {{d}};")
SQLITE = [
    f"CREATE TRIGGER record_count_insert AFTER INSERT ON {RECORDS} BEGIN {ADD.format(row='NEW', d=1)} END",
    f"CREATE TRIGGER record_count_update AFTER UPDATE OF created_at, tenant_id, channel, status, reason ON {RECORDS} "
    f"WHEN {HOUR.format(row='OLD')} IS NOT {HOUR.format(row='NEW')} OR OLD.tenant_id IS NOT NEW.tenant_id "
    f"OR OLD.channel IS NOT NEW.channel OR OLD.status IS NOT NEW.status OR OLD.reason IS NOT NEW.reason "
    f"BEGIN {ADD.format(row='OLD', d=-1)} {ADD.format(row='NEW', d=1)} END",
    f"CREATE TRIGGER record_count_delete AFTER DELETE ON {RECORDS} BEGIN {ADD.format(row='OLD', d=-1)} END",
    f"INSERT INTO {COUNTS} ({KEY}, writer, n) SELECT {HOUR.format(row=RECORDS)}, tenant_id, channel, status, "  # noqa: S608
    f"reason, 0, count(*) FROM {RECORDS} GROUP BY 1, 2, 3, 4, 5",
]
SQLITE_BACK = [f"DROP TRIGGER record_count_{kind}" for kind in TRIGGERS[:3]]


def install(apps, schema_editor):
    for statement in POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE:
        schema_editor.execute(statement)


def uninstall(apps, schema_editor):
    for statement in POSTGRESQL_BACK if schema_editor.connection.vendor == "postgresql" else SQLITE_BACK:
        schema_editor.execute(statement)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0019_partition_history"),
    ]

    operations = [
        migrations.CreateModel(
            name="RecordCount",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("hour", models.DateTimeField()),
                ("tenant_id", models.CharField(max_length=64)),
                ("channel", models.CharField(max_length=16)),
                ("status", models.CharField(max_length=16)),
                ("reason", models.CharField(max_length=64)),
                ("writer", models.IntegerField(default=0)),
                ("n", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [models.UniqueConstraint(
                    fields=("hour", "tenant_id", "channel", "status", "reason", "writer"), name="record_count_key")],
                "indexes": [models.Index(condition=models.Q(("writer", 0), _negated=True), fields=["hour"],
                                         name="record_count_unfolded_idx")],
            },
        ),
        migrations.RunPython(install, uninstall),
    ]
