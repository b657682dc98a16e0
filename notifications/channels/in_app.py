"""The in-app channel's delivery (its spec: delivered at intake, no providers): the inbox row is the delivery,
written in intake's transaction. Records are rendered before they are inserted, so each is written once with
its final status. A record whose rendering raises,
whatever the error (a template error, a handler bug, RecursionError, MemoryError), is `failed` with
`render_error`; the event's other records (e-mail, SMS, push) are untouched and go on."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from notifications.channels.inbox import announce_after_commit
from notifications.channels.models import InAppMessage
from notifications.db import insert_rows
from notifications.enums import Channel, Status
from notifications.events.envelope import ValidatedEvent
from notifications.intake.isolation import NOT_PER_EVENT
from notifications.rendering.context import build_context
from notifications.rendering.failures import RENDER_ERROR, render_error_detail
from notifications.rendering.service import Renderer
from notifications.tenants.models import Tenant

if TYPE_CHECKING:
    from notifications.intake.planning import Planned

logger = logging.getLogger(__name__)

_IN_APP, _PENDING, _SENT, _FAILED = Channel.IN_APP.value, Status.PENDING.value, Status.SENT.value, Status.FAILED.value
MESSAGE_COLUMNS = ("tenant_id", "user_id", "event_type", "title", "body", "action_url", "data", "expires_at",
                   "record_id")
INBOX_PROVIDER = "inbox"  # an in-app record's provider: the inbox row is its delivery


def message_row(tenant_id: str, user_id: str, event_type: str, fields: Mapping[str, str], event_id: str,
                template: str, expires_at: Any, record: Any) -> list[Any]:
    """One inbox message in MESSAGE_COLUMNS order, title and link cut to their columns; the last item is the
    record (or its key). Intake's rows and the worker's (delivery/inbox.py) are made here alike."""
    return [tenant_id, user_id, event_type, fields.get("title", "")[:300], fields.get("body", ""),
            fields.get("action_url", "")[:1000], {"event_id": event_id, "template": template}, expires_at, record]


def render_inbox(records: list[Planned], tenants: dict[str, Tenant], now: Any, now_text: str) -> list[list[Any]]:
    """Renders the batch's pending in-app records, before any record is written; each becomes sent (or failed
    with `render_error`). Returns the message rows for write_inbox, each ending with its record, which
    write_inbox replaces with the record's key once the records are written.

    Fast path, "one row a message": a row is one list, completed in place, where it was a (record, row) pair
    and a row copied again with the key (three tuples a message; each object a batch keeps alive brings the
    next full garbage collection nearer). render_inbox + write_inbox: see bench/README.md, issue 16."""
    pending = [record for record in records if record.channel == _IN_APP and record.status == _PENDING]
    if not pending:
        return []
    renderer = Renderer(tenants)
    messages: list[list[Any]] = []
    for record in pending:
        item = record.item
        event = item.event
        try:
            tenant = tenants[event.tenant_id]
            context = build_context(
                event.handler,
                event_type=event.event_type,
                payload=event.typed if event.typed is not None else event.handler.load_payload(event.payload),
                tenant=tenant,
                contact=item.contact,
                event_id=event.event_id,
                user_id=event.user_id,
                occurred_at=event.timestamp,
                common=renderer.tenant_values(tenant),
            )
            content = renderer.render(event.handler, event.event_type, Channel.IN_APP, context, event.tenant_id)
            row = message_row(event.tenant_id, event.user_id, event.event_type, content.fields, item.pk_text,
                              content.source, _expiry(event, now), record)
        except NOT_PER_EVENT:
            raise  # the transaction is unusable: not this record's problem
        except Exception as err:  # noqa: BLE001 - this record's own problem: the event's other channels go on
            record.status, record.reason, record.next_attempt_at = _FAILED, RENDER_ERROR, None
            record.error_detail = render_error_detail(err)
            logger.error(
                "in-app render failed: tenant_id=%s event_type=%s user_id=%s error=%s",
                event.tenant_id, event.event_type, event.user_id, type(err).__name__,
            )
            continue
        messages.append(row)
        record.status, record.sent_at, record.provider, record.attempts = _SENT, now_text, INBOX_PROVIDER, 1
        record.next_attempt_at = None
    return messages


def _expiry(event: ValidatedEvent, now: Any) -> Any:
    ttl = event.handler.inbox_ttl(event.payload)
    return now + ttl if ttl else None


def write_inbox(inbox: list[list[Any]]) -> None:
    """Inserts the rendered messages (after their records, whose keys they carry: each row's last item, its
    record, becomes the record's key) and announces them to open inbox streams after commit, from the rows' own
    tenant and user."""
    for row in inbox:
        row[-1] = row[-1].pk
    keys = insert_rows(InAppMessage, MESSAGE_COLUMNS, inbox)
    announce_after_commit((row[0], row[1], key) for row, key in zip(inbox, keys, strict=True))
