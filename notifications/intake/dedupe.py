"""Dedupe by inserting: a batch's keys are written (EventKey, unique per tenant and dedupe key), and those the
database refused as seen before are the duplicates; the events of the keys that went in are then written. No
look-up comes first; only the losers are looked up, to name the original in their results."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from notifications.db import append_rows, insert_rows_ignoring_conflicts
from notifications.enums import Outcome
from notifications.events.envelope import ValidatedEvent
from notifications.events.models import Event, EventKey
from notifications.intake.batches import chunks
from notifications.intake.keys import new_uuid_texts
from notifications.intake.planning import Accepted
from notifications.intake.results import IntakeResult
from notifications.security import seal_fields
from notifications.security.crypto import keyring

logger = logging.getLogger(__name__)

KEY_COLUMNS = ("event_id", "tenant_id", "dedupe_key")
EVENT_COLUMNS = ("id", "tenant_id", "event_type", "event_id", "dedupe_key", "user_id", "occurred_at", "payload",
                 "metadata", "source")


def insert_new_events(
    valid: list[tuple[int, ValidatedEvent]], results: list[IntakeResult | None], sources: Sequence[str]
) -> list[Accepted]:
    """Insert the batch's new events, skipping any seen before. The insert of their keys is the dedupe check (ON
    CONFLICT DO NOTHING, by COPY into a staging table on PostgreSQL: 61a2ea7/2253047 dropped the look-up that
    came first); the events whose keys went in follow in one COPY. Duplicates get their result here; the events
    that went in are returned, in batch order."""
    first: dict[tuple[str, str], Accepted] = {}
    candidates: list[Accepted] = []
    repeats: list[tuple[int, ValidatedEvent]] = []
    keys = new_uuid_texts(len(valid))
    # Looked up once for the batch, and only when it has secrets to seal (the look-up reads three settings;
    # with f92384c's other per-batch look-ups, Python 149 -> 143 us per event).
    ring = keyring() if any(event.handler.sensitive_fields for _, event in valid) else None
    for (index, event), pk_text in zip(valid, keys, strict=True):
        key = (event.tenant_id, event.dedupe_key)
        if key in first:
            repeats.append((index, event))  # twice in one batch
            continue
        item = Accepted(index=index, event=event, pk_text=pk_text,
                        stored_payload=seal_fields(event.payload, event.handler.sensitive_fields, ring))
        first[key] = item
        candidates.append(item)
    inserted = insert_rows_ignoring_conflicts(EventKey, KEY_COLUMNS, [
        (item.pk_text, item.event.tenant_id, item.event.dedupe_key) for item in candidates])
    accepted = [item for item in candidates if item.pk_text in inserted]
    append_rows(Event, EVENT_COLUMNS, [
        (item.pk_text, item.event.tenant_id, item.event.event_type, item.event.event_id, item.event.dedupe_key,
         item.event.user_id, item.event.timestamp, item.stored_payload, item.event.metadata,
         sources[item.index][:200])
        for item in accepted
    ])
    lost = [item for item in candidates if item.pk_text not in inserted]
    if lost:
        originals = _originals([(item.event.tenant_id, item.event.dedupe_key) for item in lost])
        for item in lost:
            results[item.index] = _duplicate(item.event, originals.get((item.event.tenant_id, item.event.dedupe_key),
                                                                       ""))
    for index, event in repeats:
        winner = first[(event.tenant_id, event.dedupe_key)]
        results[index] = _duplicate(event, winner.pk_text if winner.pk_text in inserted else
                                    results[winner.index].event_id)  # type: ignore[union-attr]
    return accepted


def _originals(keys: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for chunk in chunks(keys):
        rows = EventKey.objects.filter(
            tenant_id__in={tenant for tenant, _ in chunk}, dedupe_key__in={key for _, key in chunk}
        ).values_list("tenant_id", "dedupe_key", "event_id")
        found.update({(tenant, key): str(pk) for tenant, key, pk in rows})
    return found


def _duplicate(event: ValidatedEvent, original_id: str) -> IntakeResult:
    logger.info(
        "duplicate event skipped: tenant_id=%s event_type=%s original=%s",
        event.tenant_id, event.event_type, original_id,
    )
    return IntakeResult(
        outcome=Outcome.DUPLICATE, event_type=event.event_type, tenant_id=event.tenant_id, event_id=original_id
    )
