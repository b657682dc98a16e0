
from django.core.exceptions import ValidationError
from ninja import Router

from notifications.api.auth import TenantRequest
from notifications.api.schemas import TenantOut, TenantPatch, TenantSettingsIn
from notifications.scheduling.settings import critical_delay_problems
from notifications.tenants.models import Tenant

router = Router(tags=["tenant"])


def _tenant(request: TenantRequest) -> Tenant:
    return Tenant.ensure([request.auth.tenant_id])[request.auth.tenant_id]


def _shown(tenant: Tenant) -> dict:
    hidden = {"inbox_jwt"}  # key material, even encrypted, is not listed
    return {"id": tenant.id, "name": tenant.name, "app_url": tenant.app_url, "branding": tenant.branding,
            "settings": {k: v for k, v in tenant.settings.items() if k not in hidden}}


@router.get("", response=TenantOut)
def get_tenant(request: TenantRequest):
    return _shown(_tenant(request))


@router.patch("", response=TenantOut)
def patch_tenant(request: TenantRequest, body: TenantPatch):
    tenant = _tenant(request)
    for field, value in body.dict(exclude_none=True).items():
        setattr(tenant, field, value)
    tenant.full_clean(exclude=["settings"])
    tenant.save()
    return _shown(tenant)


@router.put("/settings", response=TenantOut)
def put_settings(request: TenantRequest, body: TenantSettingsIn):
    """Disable event types, or channels per event type (`*` for every type), set per-user rate limits
    (limit and window within the ranges in README's "Tenant settings and limits") and default delays per event
    type and channel (seconds; security notifications only with `allow_delaying_security`)."""
    tenant = _tenant(request)
    tenant.settings = {**tenant.settings, **body.dict()}
    tenant.full_clean()  # unknown channels, rules out of range: 422 naming them (Tenant.clean)
    problems = critical_delay_problems(tenant.settings)
    if problems:
        raise ValidationError({"settings": [f"{key}: {problem}" for key, problem in problems.items()]})
    tenant.save()
    return _shown(tenant)
