"""Template resolution: the tenant's active template named by the guide's convention, else the handler's default."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler
from notifications.rendering.engine import cache, html_from_text, render_sources
from notifications.rendering.models import NotificationTemplate
from notifications.rendering.naming import template_name


@dataclass(slots=True)
class RenderedContent:
    fields: dict[str, str]
    source: str  # "default" or "template:<name>@v<version>"

    def __getitem__(self, key: str) -> str:
        return self.fields[key]

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)


class Renderer:
    """Renders for one batch: the active templates of the batch's tenants are loaded in one query."""

    def __init__(self, tenant_ids: Iterable[str]) -> None:
        rows = NotificationTemplate.objects.filter(tenant_id__in=set(tenant_ids), is_active=True).only(
            "id", "tenant_id", "name", "channel", "content", "version"
        )
        self._templates = {(row.tenant_id, row.name): row for row in rows}
        # The content hash is part of the cache key, so a change made around save() (QuerySet.update, another
        # process) is never served from a stale compiled template.
        self._digests = {
            row.pk: hashlib.sha1(json.dumps(row.content, sort_keys=True).encode()).hexdigest() for row in rows
        }

    def render(
        self,
        handler: BaseEventHandler,
        event_type: str,
        channel: Channel,
        context: dict[str, Any],
        tenant_id: str,
    ) -> RenderedContent:
        template = self._templates.get((tenant_id, template_name(event_type, channel)))
        if template is not None:
            fields = render_sources(
                ("tenant", template.pk, template.version, self._digests[template.pk]),
                template.content,
                context,
                label=f"template {template.name}",
                tenant_id=tenant_id,
            )
            source = f"template:{template.name}@v{template.version}"
        else:
            fields = handler.get_content(channel, event_type, context)
            source = "default"
        if channel == Channel.EMAIL and not fields.get("html") and fields.get("body"):
            fields["html"] = html_from_text(fields["body"], context)
        return RenderedContent(fields=fields, source=source)


@receiver([post_save, post_delete], sender=NotificationTemplate)
def _invalidate_compiled(sender: type, instance: NotificationTemplate, **kwargs: Any) -> None:
    cache.invalidate(lambda key: isinstance(key, tuple) and key[:2] == ("tenant", instance.pk))
