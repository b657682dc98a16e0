"""The records rate limits count, through their own index by user (intake/ratelimits.py). Before it, intake found
a batch's users' recent records through (tenant, created_at), reading every record of the tenant in the rule's
window: on a month of history (a million records a tenant), 30 ms a batch with a one-day rule and 2.2 s with a
31-day one, 300 ms and 5.5 s cold (bench/README.md, "Rate limits on a month of history").

A record is marked `rate_counted` when a rule of its tenant covers its event type as it is planned, and only
those are in the index: writes of the others (most, and every tenant without rules) pay nothing for it. Records
already there are marked here for the rules tenants have now, back to the longest window (31 days), so limits
keep counting across the upgrade.

Built without stopping intake: the column is added without a rewrite, the index CONCURRENTLY, partition by
partition on PostgreSQL (db/migration_ops.py, db/partitioning.create_index)."""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

from notifications.db.migration_ops import AddIndexConcurrentlyOnPostgres

LONGEST_WINDOW = timedelta(days=31)  # tenants/limits.py RATE_WINDOW_MAX_SECONDS


def mark_counted(apps, schema_editor):
    """The last 31 days' records of the event types each tenant's rules cover now, not skipped, marked."""
    tenant_model = apps.get_model("notifications", "Tenant")
    record_model = apps.get_model("notifications", "NotificationRecord")
    since = timezone.now() - LONGEST_WINDOW
    for tenant_id, settings in tenant_model.objects.values_list("id", "settings").iterator():
        limits = settings.get("rate_limits") if isinstance(settings, dict) else None
        types = [name for name, rules in limits.items() if isinstance(rules, dict) and rules] \
            if isinstance(limits, dict) else []
        if types:
            record_model.objects.filter(tenant_id=tenant_id, event_type__in=types, created_at__gte=since).exclude(
                status="skipped").update(rate_counted=True)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("notifications", "0020_record_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationrecord",
            name="rate_counted",
            field=models.BooleanField(blank=True, null=True),
        ),
        migrations.RunPython(mark_counted, migrations.RunPython.noop, elidable=True),
        AddIndexConcurrentlyOnPostgres(
            model_name="notificationrecord",
            index=models.Index(condition=models.Q(("rate_counted", True)), fields=["tenant", "user_id", "created_at"],
                               name="record_rate_counted_idx"),
        ),
    ]
