"""Template resolution: the tenant's active template named by the guide's convention, in the first locale of the
recipient's fallback chain it exists in (`de-AT -> de -> tenant default (or "") -> en`, rendering.locales), else
the handler's default in the recipient's language (notifications.i18n)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from jinja2 import TemplateError

from notifications.channels.spec import CHANNEL_SPECS
from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler
from notifications.events.naming import template_name
from notifications.i18n import LANGUAGES, SOURCE_LANGUAGE, translations
from notifications.rendering.context import tenant_values
from notifications.rendering.engine import cache, compile_ahead, default_key, html_from_text, render_sources
from notifications.rendering.locales import LocalePlan, locale_plan
from notifications.rendering.models import NotificationTemplate
from notifications.tenants.models import Tenant


@dataclass(slots=True)
class RenderedContent:
    fields: dict[str, str]
    source: str  # "default[<language>]", "template:<name>@v<version>" or "template:<name>[<locale>]@v<version>"

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


class Renderer:
    """Renders for one batch: the active templates of the batch's tenants are loaded in one query."""

    def __init__(self, tenant_ids: Iterable[str]) -> None:
        rows = NotificationTemplate.objects.filter(tenant_id__in=set(tenant_ids), is_active=True).only(
            "id", "tenant_id", "name", "channel", "content", "version", "locale"
        )
        self._templates: dict[tuple[str, str], dict[str, NotificationTemplate]] = {}
        for row in rows:
            self._templates.setdefault((row.tenant_id, row.name), {})[row.locale] = row
        # (tenant, template name, locale plan) -> the template found along the plan's chain (None: the default).
        self._resolved: dict[tuple[str, str, LocalePlan], NotificationTemplate | None] = {}
        # The content hash is part of the cache key, so a change made around save() (QuerySet.update, another
        # process) is never served from a stale compiled template.
        self._digests = {
            row.pk: hashlib.sha1(json.dumps(row.content, sort_keys=True).encode(), usedforsecurity=False).hexdigest()
            for row in rows
        }
        self._tenant_values: dict[str, dict[str, Any]] = {}

    def tenant_values(self, tenant: Tenant) -> dict[str, Any]:
        """The tenant's part of the contexts of this batch (rendering.context.tenant_values), made once."""
        values = self._tenant_values.get(tenant.id)
        if values is None:
            values = self._tenant_values[tenant.id] = tenant_values(tenant)
        return values

    def render(
        self,
        handler: BaseEventHandler,
        event_type: str,
        channel: Channel,
        context: dict[str, Any],
        tenant_id: str,
        name: str | None = None,
    ) -> RenderedContent:
        """`name`: a tenant template a rule chose (notifications/rules); while the tenant has none by that name,
        the event type's own template. Either is looked up along the recipient's locale chain."""
        plan = context.get("locale_plan") or _ENGLISH
        template = None
        if self._templates:
            template = self._resolve(tenant_id, name, plan) if name else None
            if template is None:
                template = self._resolve(tenant_id, template_name(event_type, channel), plan)
        if template is not None:
            # `{% trans %}` blocks of a tenant's template (one seeded from the defaults has them) are shown in
            # the recipient's language, as the defaults are.
            fields = render_sources(
                ("tenant", template.pk, template.version, self._digests[template.pk], plan.language),
                template.content,
                context,
                label=f"template {template.name}",
                tenant_id=tenant_id,
                language=plan.language,
            )
            source = template_source(template.name, template)
        else:
            fields = handler.get_content(channel, event_type, context)
            source = plan.default_source
        if CHANNEL_SPECS[channel].html_from_body and not fields.get("html") and fields.get("body"):
            fields["html"] = html_from_text(fields["body"], context)
        return RenderedContent(fields=fields, source=source)

    def _resolve(self, tenant_id: str, name: str, plan: LocalePlan) -> NotificationTemplate | None:
        """pick_template, once per batch, template name and recipient language."""
        key = (tenant_id, name, plan)
        if key in self._resolved:
            return self._resolved[key]
        by_locale = self._templates.get((tenant_id, name))
        found = self._resolved[key] = pick_template(by_locale, plan) if by_locale else None
        return found


def pick_template(by_locale: Mapping[str, NotificationTemplate], plan: LocalePlan) -> NotificationTemplate | None:
    """Of one name's templates (by locale), the one for the first locale of the plan's chain that has one; at the
    tenant's default locale's step (`tenant_step`), its template without a locale too. None: the built-in text."""
    for locale in plan.chain:
        found = by_locale.get(locale)
        if found is None and locale == plan.tenant_step:
            found = by_locale.get("")
        if found is not None:
            return found
    return None


def template_source(name: str, template: NotificationTemplate) -> str:
    """What RenderedContent.source says of a tenant's template: 'template:<name>[de]@v3' ('' locale: no [..])."""
    locale = f"[{template.locale}]" if template.locale else ""
    return f"template:{name}{locale}@v{template.version}"


#: A context built without rendering.context (a handler's own tests): English, the tenant's templates as before.
_ENGLISH = locale_plan(None)


def warm_up() -> int:
    """Before a consumer's or a worker's first batch: compile every registered handler's default templates and
    load the default locale's formatting data. Otherwise the process's first events wait for that (in the
    end-to-end benchmark the first two seconds had twice the delivery latency of the rest, and set its p99).
    Returns how many template sets were compiled; a set that does not compile is left to its first render,
    which reports it."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from notifications import formatting
    from notifications.events.registry import event_registry

    compiled = 0
    for language in LANGUAGES:
        translations(language)  # reads the catalog
    for handler in event_registry.handlers():
        for channel, sources in handler.default_templates.items():
            key, _ = default_key(type(handler), Channel(channel), sources, SOURCE_LANGUAGE)
            try:
                compile_ahead(key, sources)
            except TemplateError:
                continue
            compiled += 1
    moment = datetime.now(UTC)
    formatting.format_datetime(moment)
    formatting.format_date(moment)
    formatting.format_money(Decimal("1.00"), "USD")
    return compiled


@receiver([post_save, post_delete], sender=NotificationTemplate)
def _invalidate_compiled(sender: type, instance: NotificationTemplate, **kwargs: Any) -> None:
    cache.invalidate(lambda key: isinstance(key, tuple) and key[:2] == ("tenant", instance.pk))
