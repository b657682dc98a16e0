"""In-app records that fell due in a worker (scheduled ones: an in-app record due at once is delivered at
intake, channels/in_app.py). The inbox row is the delivery: it is written, and the record marked sent, in one
transaction, so a message is in the inbox exactly when its record says sent."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction

from notifications.channels.base import Message, Sent
from notifications.channels.in_app import INBOX_PROVIDER, MESSAGE_COLUMNS, message_row
from notifications.channels.inbox import announce_after_commit
from notifications.channels.models import InAppMessage
from notifications.channels.spec import CHANNEL_SPECS
from notifications.db import insert_rows
from notifications.delivery.dispatch import Outcome
from notifications.delivery.models import NotificationRecord
from notifications.delivery.store import store_outcomes
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.security import open_fields

if TYPE_CHECKING:
    from notifications.delivery.batch import Batch, Record
    from notifications.delivery.report import DeliveryReport



def delivered_in_worker(record: Record) -> bool:
    """Records whose delivery is the inbox row rather than a provider's send."""
    spec = CHANNEL_SPECS.get(record.channel)
    return spec is not None and spec.delivered_at_intake


def deliver_inbox(ready: list[tuple[Record, Message]], batch: Batch, report: DeliveryReport, token: uuid.UUID,
                  now: datetime) -> None:
    """Write the rendered messages to the inbox and mark their records sent, in one transaction."""
    if not ready:
        return
    with transaction.atomic():
        # Only records still under this claim (locked until commit): one whose lease ran out and that another
        # worker took is that worker's to deliver, and must not get a second inbox row from this one.
        owned = set(NotificationRecord.objects.select_for_update().filter(
            pk__in=[record.pk for record, _ in ready], claim_token=token, status=Status.SENDING,
        ).values_list("pk", flat=True))
        ready = [(record, message) for record, message in ready if record.pk in owned]
        rows = [_row(record, message, batch, now) for record, message in ready]
        records = [record for record, _ in ready]
        keys = insert_rows(InAppMessage, MESSAGE_COLUMNS, rows)
        store_outcomes(records, {record.pk: Outcome(Sent(), INBOX_PROVIDER) for record in records}, report, token)
        announce_after_commit([(row[0], row[1], key) for row, key in zip(rows, keys, strict=True)])


def _row(record: Record, message: Message, batch: Batch, now: datetime) -> list[Any]:
    handler = event_registry.handler_for(record.event_type, record.tenant_id)
    ttl = handler.inbox_ttl(open_fields(batch.events[record.event_id][2]))
    return message_row(record.tenant_id, record.user_id, record.event_type, message.fields, str(record.event_id),
                       message.data.get("template", ""), now + ttl if ttl else None, record.pk)
