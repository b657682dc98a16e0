"""Per-tenant templates. Name convention: '{event_type with dots as underscores}_{channel}'; one per name and
locale (a BCP 47 tag, stored canonical: 'de-AT'; "" is the tenant's template in its default locale)."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from notifications.enums import Channel
from notifications.rendering.locales import MAX_LOCALE
from notifications.tenants.models import Tenant


class NotificationTemplate(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="templates")
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=16, choices=[(c.value, c.value) for c in Channel])
    content = models.JSONField(
        default=dict, help_text="email: subject, body, html (optional); sms: body; push: title, body; "
        "in_app: title, body, action_url (optional)"
    )
    locale = models.CharField(
        max_length=MAX_LOCALE, blank=True, default="",
        help_text="BCP 47 tag (de, de-AT); blank: the tenant's default locale. Recipients' locales fall back "
        "de-AT -> de -> the tenant's default -> the built-in texts.",
    )
    placeholders = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "name", "locale"], name="template_unique_locale")]
        ordering = ["tenant_id", "name", "locale"]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.name}{f'[{self.locale}]' if self.locale else ''} v{self.version}"

    def clean(self) -> None:
        from notifications.rendering.validation import validate_template

        validate_template(self)

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The guide creates templates with objects.create(); validation must not depend on full_clean().
        self.clean()
        with transaction.atomic():
            Tenant.ensure([self.tenant_id])
            if self.pk is not None:
                # Locked read: two concurrent saves get two versions, never the same one twice.
                current = (
                    NotificationTemplate.objects.select_for_update().filter(pk=self.pk)
                    .values_list("version", flat=True).first()
                )
                self.version = (current or 0) + 1
            super().save(*args, **kwargs)
