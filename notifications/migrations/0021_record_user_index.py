"""One user's records through an index (tenant, user_id, created_at): intake's rate limits read the recent
records of a batch's users, erasure and the API's `user_id` filter one user's. Before it they were found through
(tenant, created_at), reading every record of the tenant in the window: with a one-day rule, 250 ms an intake
batch at a million records a tenant a month, 4.6 s with a 31-day rule (bench/README.md, "Rate limits on a long
history").

Built without stopping intake: CONCURRENTLY, partition by partition on PostgreSQL (db/migration_ops.py,
db/partitioning.create_index); SQLite builds it in place."""

from django.db import migrations, models

from notifications.db.migration_ops import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("notifications", "0020_record_counts"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="notificationrecord",
            index=models.Index(fields=["tenant", "user_id", "created_at"], name="record_tenant_user_idx"),
        ),
    ]
