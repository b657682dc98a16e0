
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Router, Status
from ninja.errors import HttpError

from notifications.api import throttle
from notifications.api.auth import TenantRequest
from notifications.api.preview import preview, test_recipient, test_send
from notifications.api.schemas import (
    PreviewIn,
    PreviewOut,
    Problem,
    TemplateIn,
    TemplateOut,
    TemplatePatch,
    TestSendIn,
    TestSendOut,
)
from notifications.enums import Channel
from notifications.rendering.models import NotificationTemplate
from notifications.rendering.validation import checked_locale
from notifications.storable import RowId

router = Router(tags=["templates"])


@router.get("", response=list[TemplateOut])
def list_templates(request: TenantRequest, active: bool | None = None, locale: str | None = None):
    """`locale`: only the templates of this locale ("" is the tenant's default locale's)."""
    query = NotificationTemplate.objects.filter(tenant_id=request.auth.tenant_id)
    if active is not None:
        query = query.filter(is_active=active)
    if locale is not None:
        query = query.filter(locale=_locale(locale))
    return list(query)


def _locale(value: str) -> str:
    try:
        return checked_locale(value)
    except ValidationError as err:
        raise HttpError(422, "; ".join(err.messages)) from None


@router.post("", response={201: TemplateOut})
def create_template(request: TenantRequest, body: TemplateIn):
    tenant_id = request.auth.tenant_id
    if NotificationTemplate.objects.filter(tenant_id=tenant_id, name=body.name, locale=body.locale).exists():
        where = f" for locale {body.locale!r}" if body.locale else ""
        raise HttpError(409, f"template {body.name!r} exists{where}; update it instead")
    template = NotificationTemplate.objects.create(tenant_id=tenant_id, **body.dict())
    return Status(201, template)


@router.get("/{int:template_id}", response=TemplateOut)
def get_template(request: TenantRequest, template_id: RowId):
    return get_object_or_404(NotificationTemplate, pk=template_id, tenant_id=request.auth.tenant_id)


@router.patch("/{int:template_id}", response=TemplateOut)
def update_template(request: TenantRequest, template_id: RowId, body: TemplatePatch):
    with transaction.atomic():
        template = get_object_or_404(NotificationTemplate, pk=template_id, tenant_id=request.auth.tenant_id)
        for field, value in body.dict(exclude_none=True).items():
            setattr(template, field, value)
        template.save()
    return template


@router.post("/{int:template_id}/deactivate", response=TemplateOut)
def deactivate_template(request: TenantRequest, template_id: RowId):
    template = get_object_or_404(NotificationTemplate, pk=template_id, tenant_id=request.auth.tenant_id)
    template.is_active = False
    template.save()
    return template


@router.post("/preview", response=PreviewOut)
def preview_template(request: TenantRequest, body: PreviewIn):
    """Render a template (saved, or the content given) with sample data, without sending anything."""
    return preview(request.auth.tenant_id, body.event_type, body.channel, body.content, body.payload,
                   zone=body.timezone, locale=body.locale)


@router.post("/{int:template_id}/test", response={200: TestSendOut, 429: Problem})
def test_send_template(request: TenantRequest, template_id: RowId, body: TestSendIn):
    """Render the template with sample data and send it now to one address (an e-mail address or an E.164
    number, by the template's channel) through the tenant's providers. Rate-limited per tenant
    (`TEST_SENDS_PER_MINUTE`, default 10): beyond it, 429 with Retry-After."""
    template = get_object_or_404(NotificationTemplate, pk=template_id, tenant_id=request.auth.tenant_id)
    test_recipient(Channel(template.channel), body.to)  # a bad address answers 422 without using the budget
    retry_after = throttle.test_sends.hit(request.auth.tenant_id)
    if retry_after is not None:
        return throttle.too_many(request, retry_after, "test sends")
    return test_send(template, body.to, body.payload, locale=body.locale)
