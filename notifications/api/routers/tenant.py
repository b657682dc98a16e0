
from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from notifications.api.schemas import TenantOut, TenantPatch, TenantSettingsIn
from notifications.enums import Channel
from notifications.tenants.models import WILDCARD, Tenant

router = Router(tags=["tenant"])


def _tenant(request: HttpRequest) -> Tenant:
    return Tenant.ensure([request.auth.tenant_id])[request.auth.tenant_id]


def _shown(tenant: Tenant) -> dict:
    hidden = {"inbox_jwt"}  # key material, even encrypted, is not listed
    return {"id": tenant.id, "name": tenant.name, "app_url": tenant.app_url, "branding": tenant.branding,
            "settings": {k: v for k, v in tenant.settings.items() if k not in hidden}}


@router.get("", response=TenantOut)
def get_tenant(request: HttpRequest):
    return _shown(_tenant(request))


@router.patch("", response=TenantOut)
def patch_tenant(request: HttpRequest, body: TenantPatch):
    tenant = _tenant(request)
    for field, value in body.dict(exclude_none=True).items():
        setattr(tenant, field, value)
    tenant.full_clean(exclude=["settings"])
    tenant.save()
    return _shown(tenant)


@router.put("/settings", response=TenantOut)
def put_settings(request: HttpRequest, body: TenantSettingsIn):
    """Disable event types, or channels per event type (`*` for every type), and set per-user rate limits."""
    channels = {c.value for c in Channel}
    for event_type, disabled in body.disabled_channels.items():
        unknown = set(disabled) - channels
        if unknown:
            raise HttpError(422, f"unknown channel(s) for {event_type}: {', '.join(sorted(unknown))}")
    for event_type, rules in body.rate_limits.items():
        for channel, rule in rules.items():
            if channel not in channels | {WILDCARD} or set(rule) - {"limit", "per_seconds"} or "limit" not in rule:
                raise HttpError(422, f"rate_limits[{event_type}][{channel}] needs limit (and per_seconds)")
    tenant = _tenant(request)
    tenant.settings = {**tenant.settings, **body.dict()}
    tenant.save()
    return _shown(tenant)
