"""A batch's secrets (the values handlers mark sensitive): remembered so that logs redact them, and purged from
the stored payload at once when none of the event's notifications is still to be sent."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from notifications.db import fast_bulk_update
from notifications.enums import Status
from notifications.events.envelope import EventRejection, ValidatedEvent
from notifications.events.models import Event
from notifications.intake.planning import Accepted, Planned
from notifications.security import register_secrets
from notifications.security.redaction import SENSITIVE_KEYS


def remember_secrets(parsed: Iterable[ValidatedEvent | EventRejection]) -> None:
    """Registers the batch's secret values with the log redaction, those of rejected events too (read by key
    name from the raw payload, since a rejected event has no handler to name them)."""
    values: list[Any] = []
    for item in parsed:
        if isinstance(item, ValidatedEvent):
            values += [item.payload.get(name) for name in item.handler.sensitive_fields]
        elif isinstance(item.raw, dict) and isinstance(item.raw.get("payload"), dict):
            values += [v for k, v in item.raw["payload"].items()
                       if str(k).lower() in SENSITIVE_KEYS and isinstance(v, str)]
    register_secrets(values)


def purge_if_final(accepted: list[Accepted], records: list[Planned]) -> None:
    """Events whose notifications are all final already (skipped, or in-app only) keep no secrets."""
    from notifications.delivery.secrets import purge_payload

    final = Status.final()
    open_events = {record.item.index for record in records if record.status not in final}
    finished = []
    for item in accepted:
        if item.index not in open_events and item.event.handler.sensitive_fields:
            purged = purge_payload(item.stored_payload)
            if purged is not item.stored_payload:
                finished.append(Event(pk=item.pk_text, payload=purged))
    if finished:
        fast_bulk_update(finished, ["payload"])
