"""Template data: the tenant's common values, the recipient, then the handler's own data."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from notifications.conf import get_setting
from notifications.events.base_handler import BaseEventHandler
from notifications.formatting import normalise_locale, reset_zone, use_zone
from notifications.rendering.locales import locale_plan
from notifications.scheduling.zones import contact_zone
from notifications.tenants.models import Tenant


def tenant_app_url(tenant: Tenant) -> str:
    return (tenant.app_url or get_setting("DEFAULT_APP_URL", "")).rstrip("/")


def tenant_values(tenant: Tenant) -> dict[str, Any]:
    """The tenant's part of every context. A batch works it out once per tenant (Renderer.tenant_values) and
    passes it to build_context as `common`: hundreds of messages of one batch share it."""
    return {
        "company_name": tenant.company_name,
        "tenant_name": tenant.name or tenant.id,
        "tenant_id": tenant.id,
        "app_url": tenant_app_url(tenant),
        "support_email": tenant.branding.get("support_email", ""),
        "logo_url": tenant.branding.get("logo_url", ""),
        "primary_color": tenant.branding.get("primary_color", ""),
    }


def build_context(
    handler: BaseEventHandler,
    *,
    event_type: str,
    payload: dict[str, Any],
    tenant: Tenant,
    contact: Mapping[str, str],
    event_id: str = "",
    user_id: str = "",
    occurred_at: datetime | None = None,
    common: Mapping[str, Any] | None = None,
    locale: str = "",
) -> dict[str, Any]:
    """`common`: tenant_values(tenant), when the caller has it already. `locale`: the recipient's locale when
    the caller decides it (a preview's); else the payload's, the contact's, the tenant's default_locale.

    Times are shown in the recipient's zone (the contact's `timezone`, else the tenant's default_timezone,
    else UTC): the context's `timezone` names it for the templates' filters, and the handler's hooks format
    inside it (formatting.use_zone, recipient_zone's steps)."""
    tenant_locale = tenant.settings.get("default_locale")
    locale = normalise_locale(locale or payload.get("locale") or contact.get("locale") or tenant_locale)
    zone = contact_zone(contact, tenant.settings)
    first_name = contact.get("first_name", "")
    last_name = contact.get("last_name", "")
    context: dict[str, Any] = {
        **(common if common is not None else tenant_values(tenant)),
        "event_type": event_type,
        "event_id": event_id,
        "event_timestamp": occurred_at,
        "user_id": user_id,
        "locale": locale,
        "recipient_name": f"{first_name} {last_name}" if first_name and last_name else first_name or last_name,
        "recipient_first_name": first_name,
    }
    # The payload wins; the contact directory fills what it leaves out (a name for the greeting, say).
    merged = dict(payload)
    for key in ("email", "phone", "first_name", "last_name"):
        if not merged.get(key) and contact.get(key):
            merged[key] = contact[key]
    token = use_zone(zone)
    try:
        context.update(handler.get_template_data(merged))
        # locale_plan: which tenant templates and built-in texts the recipient reads (rendering.locales).
        context["locale"], context["timezone"] = locale, zone.key
        context["locale_plan"] = locale_plan(locale, tenant_locale)
        return handler.finalize_context(context)
    finally:
        reset_zone(token)
