"""Default templates of every registered handler, written into a tenant's NotificationTemplate rows: for its
default locale ("", the texts as they are, `{% trans %}` blocks included: they read in each recipient's
language), or for one locale (the texts written out in its language, rendering.flatten: German text to edit)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from jinja2 import meta

from notifications.enums import Channel
from notifications.events.naming import template_name
from notifications.events.registry import event_registry
from notifications.rendering.engine import env_for
from notifications.rendering.flatten import flatten
from notifications.rendering.locales import locale_plan
from notifications.rendering.models import NotificationTemplate
from notifications.rendering.validation import checked_locale
from notifications.tenants.models import Tenant


@dataclass
class SeedReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}"


def seed_templates(tenant_id: str, *, overwrite: bool = False, locale: str = "") -> SeedReport:
    """`locale`: a BCP 47 tag (ValidationError when unknown); only that locale's templates are touched."""
    report = SeedReport()
    locale = checked_locale(locale)
    language = locale_plan(locale).language if locale else ""
    with transaction.atomic():
        Tenant.ensure([tenant_id])
        existing = {t.name: t for t in NotificationTemplate.objects.filter(tenant_id=tenant_id, locale=locale)}
        for event_type in event_registry.event_types:
            handler = event_registry.handler_for(event_type)
            for channel, sources in handler.default_templates.items():
                name = template_name(event_type, Channel(channel))
                content = {field: flatten(source, language) if language else source
                           for field, source in sources.items()}
                placeholders = sorted(
                    set().union(*(meta.find_undeclared_variables(env_for(f).parse(s)) for f, s in content.items()))
                )
                current = existing.get(name)
                if current is None:
                    NotificationTemplate.objects.create(
                        tenant_id=tenant_id, name=name, channel=Channel(channel).value, content=content,
                        placeholders=placeholders, is_active=True, locale=locale,
                    )
                    report.created += 1
                elif overwrite and (current.content != content or not current.is_active
                                    or current.placeholders != placeholders):
                    current.content, current.placeholders, current.is_active = content, placeholders, True
                    current.save()
                    report.updated += 1
                else:
                    report.unchanged += 1
    return report
