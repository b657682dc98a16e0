# Tenant-defined event types (notifications/tenant_types): one new table, nothing else touched.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0014_rules"),
    ]

    operations = [
        migrations.CreateModel(
            name="TenantEventType",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=128)),
                ("description", models.TextField(blank=True)),
                ("payload_schema", models.JSONField(
                    help_text="JSON Schema (Draft 2020-12) of the payload, of type object")),
                ("channels", models.JSONField(default=list, help_text='The channels notified, e.g. ["email", "in_app"]')),
                ("templates", models.JSONField(
                    default=dict,
                    help_text='{channel: {locale: {field: Jinja source}}}; locale "" is the locale-neutral text')),
                ("example", models.JSONField(default=dict, help_text="A payload that the schema accepts")),
                ("version", models.PositiveIntegerField(default=1)),
                ("is_active", models.BooleanField(default=True, help_text="Off: new events are refused; stored ones stay")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                ("tenant", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="event_types",
                                             to="notifications.tenant")),
            ],
            options={
                "ordering": ["tenant_id", "name"],
                "constraints": [models.UniqueConstraint(fields=("tenant", "name"), name="tenant_event_type_unique_name")],
            },
        ),
    ]
