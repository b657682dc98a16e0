"""Records a rate-limit rule counts are marked (`rate_counted`, intake/ratelimits.py); 0022 marks those already
there and indexes them. A nullable column without a default: PostgreSQL adds it to the catalog only, SQLite by
ALTER TABLE ADD COLUMN (no rebuild: the record-count triggers of 0020 stay). On its own, in its own transaction:
0022 runs outside one, and a failure there must not leave this half applied."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0020_record_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="notificationrecord",
            name="rate_counted",
            field=models.BooleanField(blank=True, null=True),
        ),
    ]
