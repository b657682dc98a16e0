"""The records rate limits count, through their own index by user (intake/ratelimits.py). Before it, intake found
a batch's users' recent records through (tenant, created_at), reading every record of the tenant in the rule's
window: on a month of history (a million records a tenant), 188-241 ms a batch with a one-day rule and 5.5 s
with a 31-day one (bench/README.md, "Rate limits on a month of history").

The planner marks a record `rate_counted` (0021) when a rule of its tenant covers its event type and the record
is not skipped; only those are in the index: writes of the others (most, and every tenant without rules) pay
nothing for it. Records already there are marked here for the rules tenants have now, back to the longest window
(31 days), a day of one tenant per statement, so limits keep counting across the upgrade.

Outside a transaction (CREATE INDEX CONCURRENTLY), and so made to run again after a failure: the marking takes
only unmarked records, the index is made where missing (an invalid one left by a failed build is made again):
db/migration_ops.py, db/partitioning.create_index. `manage.py mark_rate_counted`, once every consumer and
worker runs this code, marks again: the records processes of the code before wrote meanwhile."""

from datetime import timedelta

from django.db import migrations, models
from django.utils import timezone

from notifications.db.migration_ops import AddIndexConcurrentlyOnPostgres

LONGEST_WINDOW = timedelta(days=31)  # tenants/limits.py RATE_WINDOW_MAX_SECONDS


def mark_counted(apps, schema_editor):
    """The last 31 days' records of the event types each tenant's rules cover now, not skipped, marked: a day of
    one tenant per statement (each its own transaction here), unmarked ones only. Returns how many were marked
    (`manage.py mark_rate_counted` runs it again)."""
    marked = 0
    tenant_model = apps.get_model("notifications", "Tenant")
    record_model = apps.get_model("notifications", "NotificationRecord")
    end = timezone.now() + timedelta(hours=1)  # and what is written while this runs
    for tenant_id, settings in tenant_model.objects.values_list("id", "settings").iterator():
        limits = settings.get("rate_limits") if isinstance(settings, dict) else None
        types = [name for name, rules in limits.items() if isinstance(rules, dict) and rules] \
            if isinstance(limits, dict) else []
        day = end - LONGEST_WINDOW - timedelta(days=1)
        while types and day < end:
            marked += record_model.objects.filter(
                tenant_id=tenant_id, event_type__in=types, created_at__gte=day, created_at__lt=day + timedelta(days=1),
                rate_counted__isnull=True).exclude(status="skipped").update(rate_counted=True)
            day += timedelta(days=1)
    return marked


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("notifications", "0021_record_rate_counted"),
    ]

    operations = [
        migrations.RunPython(mark_counted, migrations.RunPython.noop, elidable=True),
        AddIndexConcurrentlyOnPostgres(
            model_name="notificationrecord",
            index=models.Index(condition=models.Q(("rate_counted", True)), fields=["tenant", "user_id", "created_at"],
                               name="record_rate_counted_idx"),
        ),
    ]
