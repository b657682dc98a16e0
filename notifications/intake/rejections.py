"""Storing rejected events: the original kept twice (redacted for showing, encrypted for reprocessing), and a
message from Kafka stored once per origin (topic, partition, offset) however often it is redelivered."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from typing import Any

from notifications.enums import Outcome, RejectionReason
from notifications.events.envelope import EventRejection, ValidatedEvent, failed_validation, validate_event
from notifications.events.models import RejectedEvent
from notifications.events.registry import EventRegistry, event_registry
from notifications.intake.batches import CHUNK
from notifications.intake.results import IntakeResult
from notifications.security import encrypt_text, redact
from notifications.security.redaction import redact_serialized

logger = logging.getLogger(__name__)

MAX_STORED_ORIGINAL = 256 * 1024


def validate_all(raw_events: Sequence[Any], registry: EventRegistry) -> list[ValidatedEvent | EventRejection]:
    """Each event validated, or its rejection. validate_event never raises; should it all the same, the batch is
    validated again one event at a time and the event that raised is rejected alone."""
    registry.forget_tenant_types()  # this batch sees the tenant-defined types' versions it loads itself
    try:
        parsed = [validate_event(raw, registry) for raw in raw_events]
    except Exception as err:  # noqa: BLE001 - the last net: one event's failure stays with that event
        logger.error("validating a batch of %d raised %s: validating its events one at a time", len(raw_events),
                     type(err).__name__)
        parsed = [_validate_one(raw, registry) for raw in raw_events]
    return _tenant_defined(raw_events, parsed, registry)


def _tenant_defined(raw_events: Sequence[Any], parsed: list[ValidatedEvent | EventRejection],
                    registry: EventRegistry) -> list[ValidatedEvent | EventRejection]:
    """Events of a type no handler serves may be of their tenant's own types (notifications/tenant_types): those
    are loaded for the batch in one query and their events validated again. Built-in traffic never gets here."""
    unknown = {(item.tenant_id, item.event_type) for item in parsed if _unsupported(item)}
    if not unknown:
        return parsed
    registry.prepare(unknown)
    return [_validate_one(raw, registry) if _unsupported(item) and registry.get_handler(
        item.event_type, item.tenant_id) is not None else item for raw, item in zip(raw_events, parsed, strict=True)]


def _unsupported(item: ValidatedEvent | EventRejection) -> bool:
    return (isinstance(item, EventRejection) and item.reason is RejectionReason.UNSUPPORTED_EVENT_TYPE
            and bool(item.tenant_id))


def _validate_one(raw: Any, registry: EventRegistry) -> ValidatedEvent | EventRejection:
    try:
        return validate_event(raw, registry)
    except Exception as err:  # noqa: BLE001 - see validate_all
        return failed_validation(raw, err)


def origin_key(origin: dict[str, Any] | None) -> str | None:
    """'topic/partition/offset' for a message from Kafka (a topic name has no '/'), else None. (A topic deleted
    and made again starts its offsets at 0 again: its new rejections would be taken for redeliveries; known.)"""
    if not origin:
        return None
    topic, partition, offset = origin.get("topic"), origin.get("partition"), origin.get("offset")
    if not isinstance(topic, str) or not isinstance(partition, int) or not isinstance(offset, int) or offset < 0:
        return None
    return f"{topic}/{partition}/{offset}"


def store_rejections(
    rejections: list[tuple[int, EventRejection]],
    results: list[IntakeResult | None],
    sources: Sequence[str],
    origins: Sequence[dict[str, Any]] | None,
) -> None:
    """Store each rejection and set its result. A rejection whose origin is stored already (the message was
    redelivered, e.g. after a crash before its offset was committed) is not stored again: its result names the
    rejection stored first."""
    rows = []
    for index, rejection in rejections:
        origin = (origins[index] if origins else {}) or {}
        rows.append(_row(rejection, sources[index], origin))
        logger.warning(
            "event rejected: reason=%s tenant_id=%s event_type=%s source=%s detail=%s",
            rejection.reason.value, rejection.tenant_id or "-", rejection.event_type or "-", sources[index],
            rejection.detail,
        )
    keyed = [row for row in rows if row.origin_key is not None]
    if len(keyed) < len(rows):
        RejectedEvent.objects.bulk_create([row for row in rows if row.origin_key is None], batch_size=CHUNK)
    if keyed:
        # The insert is the check (the unique origin key, conflicts ignored); the keys are then looked up, ours
        # or those stored before.
        RejectedEvent.objects.bulk_create(keyed, batch_size=CHUNK, ignore_conflicts=True)
        stored = _stored_ids([row.origin_key for row in keyed if row.origin_key])
        for row in keyed:
            row.pk = stored.get(row.origin_key or "")
    for (index, rejection), row in zip(rejections, rows, strict=True):
        results[index] = IntakeResult(
            outcome=Outcome.REJECTED,
            event_type=rejection.event_type,
            tenant_id=rejection.tenant_id,
            reason=rejection.reason,
            detail=rejection.detail,
            rejected_id=row.pk,
        )


def _stored_ids(keys: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(keys), CHUNK):
        rows = RejectedEvent.objects.filter(origin_key__in=keys[start:start + CHUNK]).values_list("origin_key", "pk")
        found.update((key, pk) for key, pk in rows if key is not None)  # None is never asked for
    return found


def _row(rejection: EventRejection, source: str, origin: dict[str, Any]) -> RejectedEvent:
    try:
        original = storable(as_text(rejection.raw))
        if isinstance(rejection.raw, dict):
            shown = json.dumps(redact(rejection.raw, event_registry.redacted_keys()), default=str)
        else:
            shown = redact_serialized(original, event_registry.redacted_keys())
    except RecursionError:
        original = shown = "[nested too deeply to keep]"
    return RejectedEvent(
        tenant_id=storable(rejection.tenant_id)[:200],
        event_type=storable(rejection.event_type)[:200],
        reason=rejection.reason.value,
        detail=storable(rejection.detail)[:2000],
        original_redacted=storable(shown)[:MAX_STORED_ORIGINAL],
        original_encrypted=encrypt_text(original[:MAX_STORED_ORIGINAL]),
        source=source[:200],
        origin=origin,
        origin_key=origin_key(origin),
    )


def storable(text: str) -> str:
    """Text any database column takes: NUL and lone surrogates escaped."""
    text = text.replace("\x00", "\\u0000")
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def as_text(raw: Any) -> str:
    if isinstance(raw, (bytes, bytearray, memoryview)):
        return bytes(raw).decode("utf-8", errors="replace")
    if isinstance(raw, str):
        return raw
    try:
        return json.dumps(raw, default=str)
    except (TypeError, ValueError):
        return repr(raw)
