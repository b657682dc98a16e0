"""The message of one claimed record: its event's payload opened, its context built, its template rendered.
Whatever this raises is that record's own problem (the worker fails the record with `render_error`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from notifications.channels.base import Message
from notifications.digests.render import render_digest
from notifications.enums import Channel
from notifications.events.registry import event_registry
from notifications.rendering.context import build_context
from notifications.rendering.service import Renderer
from notifications.rules.outcome import ROUTE_TEMPLATE, read_route
from notifications.security import open_fields

if TYPE_CHECKING:
    from notifications.delivery.batch import Batch, Record
    from notifications.digests.closing import Digest


def message_for(record: Record, batch: Batch, renderer: Renderer, digest: Digest | None = None) -> Message:
    """`digest`: the record is a digest (notifications/digests): its digest template, with the window's events."""
    handler = event_registry.handler_for(record.event_type, record.tenant_id)
    event_id, occurred_at, stored = batch.events[record.event_id]
    tenant = batch.tenants[record.tenant_id]
    opened = open_fields(stored)
    if "user_id" not in opened and record.user_id:  # an audience event's: each recipient's copy carries theirs
        opened["user_id"] = record.user_id
    payload = handler.load_payload(opened)
    contact = {**batch.contacts.get((record.tenant_id, record.user_id), {}), **handler.get_contact_fields(payload)}
    context = build_context(
        handler, event_type=record.event_type, payload=payload, tenant=tenant, contact=contact,
        event_id=event_id, user_id=record.user_id, occurred_at=occurred_at, common=renderer.tenant_values(tenant),
    )
    if digest is not None:
        content = render_digest(handler, record.event_type, Channel(record.channel), context, record.tenant_id,
                                digest)
    else:
        # A tenant's rule may name the template (notifications/rules); the record carries it in `route`.
        name = read_route(record.route).get(ROUTE_TEMPLATE) if record.route else None
        content = renderer.render(handler, record.event_type, Channel(record.channel), context, record.tenant_id,
                                  name)
    target = {}
    device = batch.devices.get(record.device_id) if record.device_id else None
    if device is not None:
        target = {"platform": device.platform, "token": device.token,
                  "subscription": device.subscription, "device_id": device.pk}
    return Message(
        record_id=record.pk, tenant_id=record.tenant_id, channel=Channel(record.channel), recipient=record.recipient,
        fields=content.fields, event_type=record.event_type, user_id=record.user_id,
        data={"template": content.source, **({"mandatory": "1"} if handler.mandatory else {})}, target=target,
    )
