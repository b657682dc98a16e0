"""Template preview with sample data, and a test send to one address: the API's side of templates (its errors are
HttpErrors, answered as 422). Rendering is the rendering layer's (rendering.trial, rendering.service), sending the
delivery engine's public `send_message`."""

from __future__ import annotations

from typing import Any

from ninja.errors import HttpError
from pydantic import ValidationError as PayloadError

from notifications.channels.base import Message
from notifications.channels.spec import CHANNEL_SPECS, Target, UnknownChannel, channel_spec, parse_channel
from notifications.enums import Channel
from notifications.errors import TemplateRenderError
from notifications.events.envelope import format_validation_error
from notifications.events.naming import template_name
from notifications.events.registry import event_registry
from notifications.rendering.engine import html_from_text, render_sources
from notifications.rendering.models import NotificationTemplate
from notifications.rendering.service import Renderer
from notifications.rendering.trial import sample_context
from notifications.tenants.models import Tenant


def _context(tenant: Tenant, event_type: str, payload: dict[str, Any] | None,
             zone: str = "", locale: str = "") -> tuple[Any, dict[str, Any]]:
    event_registry.prepare([(tenant.id, event_type)])  # the tenant's own types too
    handler = event_registry.get_handler(event_type, tenant.id)
    if handler is None:
        raise HttpError(422, f"unsupported event type {event_type!r}")
    try:
        return handler, sample_context(handler, event_type, tenant, payload, zone=zone, locale=locale)
    except PayloadError as err:
        raise HttpError(422, f"invalid sample payload: {format_validation_error(err)[1]}") from err


def preview(tenant_id: str, event_type: str, channel: str, content: dict[str, str] | None,
            payload: dict[str, Any] | None, zone: str = "", locale: str = "") -> dict[str, Any]:
    """`zone`: the recipient's time zone to show times in (blank: the tenant's default_timezone, else UTC).
    `locale`: the recipient's locale (canonical, checked by the caller; blank: the payload's, else the tenant's
    default): the texts' language, the dates' and amounts' formats, and which of the tenant's templates applies."""
    tenant = Tenant.ensure([tenant_id])[tenant_id]
    try:
        spec = parse_channel(channel)
    except UnknownChannel as err:
        raise HttpError(422, f"unknown channel {channel!r}") from err
    channel_value = Channel(spec.value)
    handler, context = _context(tenant, event_type, payload, zone, locale)
    if content is not None:
        draft = NotificationTemplate(tenant_id=tenant_id, name=template_name(event_type, channel_value),
                                     channel=channel_value.value, content=content)
        draft.clean()  # the same checks as saving: raises ValidationError -> 422
        # Not cached: a draft is rendered once, and no key of it could be trusted not to meet another draft.
        try:
            fields = render_sources(None, content, context, label="preview", tenant_id=tenant_id,
                                    language=context["locale_plan"].language)
        except TemplateRenderError as err:  # over budget, or an error with this payload: the reason, as 422
            raise HttpError(422, str(err)) from None
        if spec.html_from_body and not fields.get("html") and fields.get("body"):
            fields["html"] = html_from_text(fields["body"], context)
        return {"fields": fields, "source": "draft"}
    try:
        rendered = Renderer([tenant_id]).render(handler, event_type, channel_value, context, tenant_id)
    except NotImplementedError as err:
        raise HttpError(422, f"{event_type} has no {channel_value.value} content") from err
    except TemplateRenderError as err:
        raise HttpError(422, str(err)) from None
    return {"fields": rendered.fields, "source": rendered.source}


def test_recipient(channel: Channel, to: str) -> str:
    """The one address a test send goes to, for channels addressed by a contact field (their spec's
    address_field): an e-mail address for e-mail templates, an E.164 number for SMS templates; anything else
    (a list, a second address, a name) answers 422."""
    from pydantic import TypeAdapter

    from notifications.events.handlers.fields import Email, Phone

    spec = channel_spec(channel)
    if spec.target is not Target.USER or not spec.address_field:
        addressed = ", ".join(value for value, other in CHANNEL_SPECS.items()
                              if other.target is Target.USER and other.address_field)
        raise HttpError(422, f"test sends go to one address ({addressed} templates)")
    kinds: dict[str, Any] = {"email": Email, "phone": Phone}  # annotated str | None (pydantic reads the checks)
    address: str | None
    try:
        address = TypeAdapter[str | None](kinds.get(spec.address_field, str)).validate_python(to)
    except PayloadError:
        address = None
    if not address or (spec.address_check is not None and not spec.address_check(address)):
        example = ", e.g. +14155550123" if spec.address_field == "phone" else ""
        raise HttpError(422, f"to: one {spec.address_field} address{example}")
    return str(address)


def test_send(template: NotificationTemplate, to: str, payload: dict[str, Any] | None,
              locale: str = "") -> dict[str, Any]:
    """`locale`: the recipient's (blank: the template's own, else the tenant's default)."""
    from notifications.delivery.engine import default_engine

    channel = Channel(template.channel)
    to = test_recipient(channel, to)
    event_type = event_registry.handler_for_template_name(template.name, template.tenant_id)
    if event_type is None:
        raise HttpError(422, "the template's event type is not registered")
    result = preview(template.tenant_id, event_type[0], channel.value, template.content, payload,
                     locale=locale or template.locale)
    message = Message(record_id=0, tenant_id=template.tenant_id, channel=channel, recipient=to,
                      fields=result["fields"], event_type=event_type[0], data={"template": "test"})
    outcome = default_engine().send_message(message)
    sent = outcome.result
    return {"ok": sent.ok, "provider": outcome.sender,
            "provider_message_id": getattr(sent, "provider_message_id", ""),
            "error_code": getattr(sent, "code", "")}


__all__ = ["preview", "test_recipient", "test_send"]
