"""Templates per locale: NotificationTemplate.locale ("" is the tenant's default locale, what every existing row
is) and uniqueness per (tenant, name, locale). The templates table is small: no care needed for its rewrite."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notifications", "0012_audiences")]

    operations = [
        migrations.AddField(
            model_name="notificationtemplate",
            name="locale",
            field=models.CharField(
                blank=True, default="", max_length=35,
                help_text="BCP 47 tag (de, de-AT); blank: the tenant's default locale. Recipients' locales fall "
                "back de-AT -> de -> the tenant's default -> the built-in texts.",
            ),
        ),
        migrations.RemoveConstraint(model_name="notificationtemplate", name="template_unique_name"),
        migrations.AddConstraint(
            model_name="notificationtemplate",
            constraint=models.UniqueConstraint(fields=("tenant", "name", "locale"), name="template_unique_locale"),
        ),
        migrations.AlterModelOptions(name="notificationtemplate", options={"ordering": ["tenant_id", "name", "locale"]}),
    ]
