"""A claimed batch as delivery reads it: each record's fields as plain values (no model instance), and what
rendering the batch needs (events, tenants, devices, contacts), loaded in a few queries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications.channels.models import Device
from notifications.db import rows_by_ids
from notifications.delivery.models import NotificationRecord
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.tenants.models import Contact, Tenant

# What the worker reads of a record: plain values, no model instance (building four model instances per record
# through select_related was a fifth of the worker's time).
RECORD_COLUMNS = [
    "id", "tenant_id", "event_id", "event_type", "user_id", "channel", "recipient", "device_id", "status",
    "reason", "error_detail", "provider", "provider_message_id", "attempts", "created_at", "digest_window", "lane",
    "route",
]
# Written by delivery, never read: not loaded (Django's time zone aware loader is slow, a tenth of a send's cost).
WRITTEN_ONLY = ("next_attempt_at", "sent_at", "updated_at")


class Record:
    """The fields of a NotificationRecord that delivery reads and writes (same attribute names)."""

    __slots__ = (*RECORD_COLUMNS, *WRITTEN_ONLY, "claim_token", "pk")
    lane: int
    route: str | None  # a tenant's rule's provider or template (notifications/rules): rules.outcome.read_route
    next_attempt_at: datetime | None
    sent_at: datetime | None
    updated_at: datetime | None

    def __init__(self, row: Sequence[Any]) -> None:
        # One unpacking in RECORD_COLUMNS order (a setattr loop was 1.5% of a send).
        (self.id, self.tenant_id, self.event_id, self.event_type, self.user_id, self.channel, self.recipient,
         self.device_id, self.status, self.reason, self.error_detail, self.provider, self.provider_message_id,
         self.attempts, self.created_at, self.digest_window, self.lane, self.route) = row
        self.next_attempt_at = self.sent_at = self.updated_at = None
        self.pk = self.id
        self.claim_token = None


@dataclass
class Batch:
    """What rendering a claimed batch needs, loaded in a few queries."""

    records: list[Record]
    events: dict[Any, tuple[str, datetime, dict[str, Any]]]  # id -> (event_id, occurred_at, payload)
    tenants: dict[str, Tenant]
    devices: dict[int, Device]
    contacts: dict[tuple[str, str], dict[str, str]]


def _lane(record: Record) -> int:
    return record.lane


def load_batch(ids: list[int]) -> Batch:
    records = [Record(row) for row in rows_by_ids(NotificationRecord, RECORD_COLUMNS, ids, order_by_pk=True)]
    # The normal lane's records go out first (in key order within each lane): a 2FA code claimed with a slice
    # of a broadcast does not wait for it (enums.Lane).
    if any(record.lane for record in records):
        records.sort(key=_lane)
    events = {row[0]: row[1:] for row in rows_by_ids(Event, ["id", "event_id", "occurred_at", "payload"],
                                                      {r.event_id for r in records})}
    tenants = Tenant.objects.in_bulk({r.tenant_id for r in records})
    event_registry.prepare({(r.tenant_id, r.event_type) for r in records})  # tenant-defined types' current versions
    device_ids = {r.device_id for r in records if r.device_id}
    devices = Device.objects.in_bulk(device_ids) if device_ids else {}
    return Batch(records, events, tenants, devices, contacts_for(records))


def contacts_for(records: list[Record]) -> dict[tuple[str, str], dict[str, str]]:
    """The stored contact fields (non-empty) of the batch's users, by (tenant, user)."""
    users = {(r.tenant_id, r.user_id) for r in records if r.user_id}
    if not users:
        return {}
    rows = Contact.objects.filter(tenant_id__in={t for t, _ in users}, user_id__in={u for _, u in users})
    return {(c.tenant_id, c.user_id): {k: v for k, v in c.as_dict().items() if v} for c in rows}
