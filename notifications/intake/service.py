"""Batch intake. One call = one database transaction, a fixed number of queries whatever the batch size:
tenants, dedupe, events, contacts, preferences, templates, records, inbox messages."""

from __future__ import annotations

import logging
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from django.db import transaction
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone

from notifications.channels.inbox import announce_after_commit
from notifications.channels.models import Device, InAppMessage
from notifications.db import (
    fast_bulk_update,
    insert_rows,
    insert_rows_ignoring_conflicts,
)
from notifications.delivery.models import NotificationRecord
from notifications.delivery.wakeup import signal_due_after_commit
from notifications.enums import Channel, Outcome, Status
from notifications.events.envelope import EventRejection, ValidatedEvent
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.intake.inapp import render_inbox
from notifications.intake.isolation import NOT_PER_EVENT, Failures, rejection_for, take_in_halves
from notifications.intake.planning import Accepted, Planned, Planner, load_limiter
from notifications.intake.preferences import PreferenceBook
from notifications.intake.rejections import store_rejections, validate_all
from notifications.intake.results import IntakeResult, RecordSummary
from notifications.observability import metrics
from notifications.security import register_secrets, seal_fields
from notifications.security.crypto import keyring
from notifications.security.redaction import SENSITIVE_KEYS
from notifications.tenants.models import Contact, Tenant

logger = logging.getLogger(__name__)

T = TypeVar("T")
CHUNK = 500
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "locale")
_IN_APP, _PENDING = Channel.IN_APP.value, Status.PENDING.value


def _chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def new_uuid_texts(count: int) -> list[str]:
    """`count` new event keys as UUID text: version 7 (RFC 9562), the current Unix time in milliseconds followed
    by random bits, made from one read of the system's random source. Time-ordered keys go in at the right
    edge of the primary key and of the records' (event, channel, recipient) index instead of at random pages:
    with random (version 4) keys each insert touched its own page of a growing index, which PostgreSQL had to
    keep in memory, write back and log in full after every checkpoint."""
    data = bytearray(os.urandom(16 * count))
    stamp = (time.time_ns() // 1_000_000).to_bytes(6, "big")
    for start in range(0, 16 * count, 16):
        data[start:start + 6] = stamp
    data[6::16] = bytes(byte & 0x0F | 0x70 for byte in data[6::16])  # version 7
    data[8::16] = bytes(byte & 0x3F | 0x80 for byte in data[8::16])  # RFC 9562 variant
    hexed = data.hex()
    return [f"{hexed[i:i + 8]}-{hexed[i + 8:i + 12]}-{hexed[i + 12:i + 16]}-{hexed[i + 16:i + 20]}-{hexed[i + 20:i + 32]}"
            for i in range(0, 32 * count, 32)]


def process_events(
    raw_events: Sequence[Any],
    *,
    source: str | Sequence[str] = "local",
    origins: Sequence[dict[str, Any]] | None = None,
) -> list[IntakeResult]:
    """Take in a batch of raw events (bytes, str or dict). Never raises for bad events: each gets a result.

    `source` names where the events came from (one for all, or one per event: a Kafka batch spans topics);
    `origins` carries per-event details kept with rejections (topic, partition, offset)."""
    started = time.perf_counter()
    sources = [source] * len(raw_events) if isinstance(source, str) else list(source)
    parsed = validate_all(raw_events, event_registry)
    _remember_secrets(parsed)
    try:
        final = _take_in(parsed, sources, origins)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the caller retries the whole batch
    except Exception as err:  # noqa: BLE001 - one event must not sink the others
        logger.error("intake batch of %d failed (%s): taking it in halves", len(parsed), type(err).__name__)
        final = take_in_halves(parsed, sources, origins, _take_in, _take_in_alone)
    _count(final)
    metrics.INTAKE_BATCH_SECONDS.observe(time.perf_counter() - started)
    return final


def _take_in(
    parsed: Sequence[ValidatedEvent | EventRejection], sources: Sequence[str],
    origins: Sequence[dict[str, Any]] | None,
) -> list[IntakeResult]:
    results: list[IntakeResult | None] = [None] * len(parsed)
    with transaction.atomic():
        rejections = [(i, p) for i, p in enumerate(parsed) if isinstance(p, EventRejection)]
        if rejections:
            store_rejections(rejections, results, sources, origins)
        valid = [(i, p) for i, p in enumerate(parsed) if isinstance(p, ValidatedEvent)]
        failed = _accept(valid, results, sources) if valid else []
        if failed:
            store_rejections(failed, results, sources, origins)
    final = [result for result in results if result is not None]
    assert len(final) == len(parsed)
    return final


def _take_in_alone(
    item: ValidatedEvent | EventRejection, source: str, origin: dict[str, Any] | None
) -> IntakeResult:
    origins = [origin] if origin else None
    try:
        return _take_in([item], [source], origins)[0]
    except (OperationalError, InterfaceError):
        raise
    except Exception as err:  # noqa: BLE001 - becomes a stored rejection, with the error's type only
        return _take_in([rejection_for(item, err)], [source], origins)[0]


def _remember_secrets(parsed: Iterable[ValidatedEvent | EventRejection]) -> None:
    values: list[Any] = []
    for item in parsed:
        if isinstance(item, ValidatedEvent):
            values += [item.payload.get(name) for name in item.handler.sensitive_fields]
        elif isinstance(item.raw, dict) and isinstance(item.raw.get("payload"), dict):
            values += [v for k, v in item.raw["payload"].items() if k.lower() in SENSITIVE_KEYS and isinstance(v, str)]
    register_secrets(values)


def _accept(
    valid: list[tuple[int, ValidatedEvent]], results: list[IntakeResult | None], sources: Sequence[str]
) -> list[tuple[int, EventRejection]]:
    """Takes in the valid events; returns those whose own steps failed, as rejections to store instead."""
    tenants = Tenant.ensure({event.tenant_id for _, event in valid})
    accepted = _dedupe_and_insert(valid, results, sources)
    if not accepted:
        return []
    now = timezone.now()
    failures = Failures()
    contacts = _resolve_contacts(accepted, failures)
    users = {(a.event.tenant_id, a.event.user_id) for a in accepted if a.event.user_id}
    preferences = PreferenceBook.load(users)
    devices = _devices_for(users)
    limiter = load_limiter(tenants, accepted, failures)
    planner = Planner(tenants, preferences, limiter, devices, now.isoformat())
    planner.plan_all(accepted, contacts, failures)
    accepted = failures.keep(accepted)
    records = planner.records
    inbox = render_inbox([r for r in records if r.channel == _IN_APP and r.status == _PENDING],
                         tenants, now, planner.now_text)
    for record, key in zip(records, insert_rows(NotificationRecord, Planned.COLUMNS,
                                                [record.row() for record in records], plain=True), strict=True):
        record.pk = key
    _purge_if_final(accepted, records)
    if any(record.channel != _IN_APP and record.status == _PENDING for record in records):
        signal_due_after_commit()
    message_keys = insert_rows(InAppMessage, _MESSAGE_COLUMNS, [(*row, record.pk) for record, row in inbox])
    announce_after_commit([(row[0], row[1], key) for (_, row), key in zip(inbox, message_keys, strict=True)])
    by_event: dict[int, list[RecordSummary]] = {}
    created: Counter[tuple[str, str]] = Counter()
    for record in records:
        by_event.setdefault(record.item.index, []).append(
            RecordSummary(channel=record.channel, status=record.status, reason=record.reason, record_id=record.pk)
        )
        created[(record.channel, record.status)] += 1
    for (channel, status), count in created.items():
        metrics.RECORDS_CREATED.labels(channel, status).inc(count)
    for item in accepted:
        results[item.index] = IntakeResult(
            outcome=Outcome.PROCESSED,
            event_type=item.event.event_type,
            tenant_id=item.event.tenant_id,
            event_id=item.pk_text,
            records=tuple(by_event.get(item.index, [])),
        )
    return failures.rejections()


_EVENT_COLUMNS = ("id", "tenant_id", "event_type", "event_id", "dedupe_key", "user_id", "occurred_at", "payload",
                  "metadata", "source")
_MESSAGE_COLUMNS = ("tenant_id", "user_id", "event_type", "title", "body", "action_url", "data", "expires_at",
                    "record_id")


def _dedupe_and_insert(
    valid: list[tuple[int, ValidatedEvent]], results: list[IntakeResult | None], sources: Sequence[str]
) -> list[Accepted]:
    """Insert the batch's new events, skipping any seen before. The insert itself is the dedupe check (the
    unique (tenant, dedupe key) constraint, ON CONFLICT DO NOTHING): no look-up first. Only events that lost
    (duplicates) are looked up, to name the original."""
    first: dict[tuple[str, str], Accepted] = {}
    candidates: list[Accepted] = []
    repeats: list[tuple[int, ValidatedEvent]] = []
    keys = new_uuid_texts(len(valid))
    # Looked up once for the batch, and only when it has secrets to seal (the look-up reads three settings).
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
    inserted = insert_rows_ignoring_conflicts(Event, _EVENT_COLUMNS, [
        (item.pk_text, item.event.tenant_id, item.event.event_type, item.event.event_id, item.event.dedupe_key,
         item.event.user_id, item.event.timestamp, item.stored_payload, item.event.metadata,
         sources[item.index][:200])
        for item in candidates
    ])
    accepted = [item for item in candidates if item.pk_text in inserted]
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
    for chunk in _chunks(keys):
        rows = Event.objects.filter(
            tenant_id__in={tenant for tenant, _ in chunk}, dedupe_key__in={key for _, key in chunk}
        ).values_list("tenant_id", "dedupe_key", "id")
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


def _resolve_contacts(accepted: list[Accepted], failures: Failures) -> dict[tuple[str, str], dict[str, str]]:
    """The directory entries of the batch's users, after applying the contact data that payloads carry. An
    event whose contact fields cannot be read is set aside in `failures`."""
    wanted = [(a.event.tenant_id, a.event.user_id) for a in accepted if a.event.user_id]
    contacts: dict[tuple[str, str], dict[str, str]] = {}
    for chunk in _chunks(sorted(set(wanted))):
        rows = Contact.objects.filter(
            tenant_id__any={t for t, _ in chunk}, user_id__any={u for _, u in chunk}
        ).values_list("tenant_id", "user_id", *CONTACT_FIELDS)
        for tenant_id, user_id, *values in rows:
            contacts[(tenant_id, user_id)] = {f: value for f, value in zip(CONTACT_FIELDS, values) if value}
    changed: dict[tuple[str, str], dict[str, str]] = {}
    for item in accepted:
        if not (item.event.handler.fills_contacts and item.event.user_id):
            continue
        key = (item.event.tenant_id, item.event.user_id)
        try:
            update = item.event.handler.get_contact_fields(item.event.payload)
        except NOT_PER_EVENT:
            raise
        except Exception as err:  # noqa: BLE001 - this event's own problem
            failures.add(item.index, item.event, err)
            continue
        merged = {**contacts.get(key, {}), **update}
        if merged != contacts.get(key):
            contacts[key] = changed[key] = merged
    if changed:
        Contact.objects.bulk_create(
            [
                Contact(tenant_id=tenant, user_id=user, **{f: data.get(f, "") for f in CONTACT_FIELDS})
                for (tenant, user), data in changed.items()
            ],
            batch_size=CHUNK,
            update_conflicts=True,
            unique_fields=["tenant", "user_id"],
            update_fields=[*CONTACT_FIELDS, "updated_at"],
        )
    return contacts


def _devices_for(users: set[tuple[str, str]]) -> dict[tuple[str, str], list[Device]]:
    found: dict[tuple[str, str], list[Device]] = {}
    if not users:
        return found
    rows = Device.objects.filter(
        tenant_id__any={t for t, _ in users}, user_id__any={u for _, u in users}, active=True
    ).order_by("id")
    for device in rows:
        if (device.tenant_id, device.user_id) in users:
            found.setdefault((device.tenant_id, device.user_id), []).append(device)
    return found


def _purge_if_final(accepted: list[Accepted], records: list[Planned]) -> None:
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


def _count(results: list[IntakeResult]) -> None:
    tally = Counter((result.event_type, result.outcome) for result in results)
    by_label: Counter[tuple[str, str]] = Counter()
    for (event_type, outcome), count in tally.items():
        by_label[(event_type if event_registry.get_handler(event_type) else "unsupported", outcome.value)] += count
    for (event_type, outcome), count in by_label.items():
        metrics.EVENTS.labels(event_type, outcome).inc(count)
    for result in results:
        if result.reason is not None:
            metrics.REJECTIONS.labels(result.reason.value).inc()
    if results:
        outcomes: Counter[str] = Counter()
        for (_, outcome), count in tally.items():
            outcomes[outcome.value] += count
        logger.info("intake batch: %d events (%s)", len(results),
                    ", ".join(f"{outcome}={n}" for outcome, n in sorted(outcomes.items())))
