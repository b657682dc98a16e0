"""A template's trial render with its event type's sample payload, under the render budget: a template that
goes over budget with the sample data is refused when saved (422 from the API, a form error in the admin),
rather than failing each of its records later."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from notifications.errors import RenderBudgetExceeded, TemplateRenderError
from notifications.rendering.context import build_context
from notifications.rendering.engine import render_sources
from notifications.tenants.models import Tenant

if TYPE_CHECKING:
    from notifications.events.base_handler import BaseEventHandler
    from notifications.rendering.models import NotificationTemplate

logger = logging.getLogger(__name__)

def sample_context(handler: BaseEventHandler, event_type: str, tenant: Tenant,
                   payload: dict[str, Any] | None = None, zone: str = "", locale: str = "") -> dict[str, Any]:
    """The template context of `payload` (default: the handler's example payload), as intake builds it, for a
    recipient in `zone` (blank: the tenant's default_timezone, else UTC) reading `locale` (blank: the payload's,
    else the tenant's default_locale). Raises pydantic's ValidationError when the payload does not fit the
    event type."""
    from django.utils import timezone

    sample = payload if payload is not None else handler.example_payload(event_type)
    typed = handler.load_payload(handler.validate_payload(event_type, sample))
    return build_context(handler, event_type=event_type, payload=typed, tenant=tenant,
                         contact={**handler.get_contact_fields(typed), **({"timezone": zone} if zone else {})},
                         user_id=str(typed.get("user_id", "")),
                         occurred_at=timezone.now(), locale=locale)


def check_budget(template: NotificationTemplate, event_type: str, handler: BaseEventHandler) -> None:
    """Render `template`'s content with the sample payload: over budget raises ValidationError on `content`.
    Other render errors pass (real events may carry what the sample lacks; their records say so)."""
    tenant = Tenant.objects.filter(pk=template.tenant_id).first() or Tenant(id=template.tenant_id)
    try:
        context = sample_context(handler, event_type, tenant)
    except Exception:  # noqa: BLE001 - a handler that cannot build its sample context: nothing to try
        logger.debug("no sample context for %s; template %s saved untried", event_type, template.name)
        return
    try:
        render_sources(None, template.content, context, label=f"template {template.name}",
                       tenant_id=str(template.tenant_id))
    except RenderBudgetExceeded as err:
        raise ValidationError({"content": f"{err.message} (rendered with the {event_type} sample data)"}) from None
    except TemplateRenderError:
        return


__all__ = ["check_budget", "sample_context"]
