"""Export: a tenant's history as an auditor reads it. Rows of three kinds, linked by id:

- `event`: what came in (type, the producer's id, user, times, source, payload and metadata with secrets masked);
- `record`: each notification it became (channel, recipient, status and why, provider, attempts, times);
- `attempt`: each call to a provider for a record (when, how long, outcome, error).

Events are chosen by tenant and by when the service received them (`since <= received_at < until`), optionally by
type, and walked in that order on one server-side cursor. They are taken in chunks of EXPORT_CHUNK: a chunk's
event rows, then its records (walked on a cursor of their own: a broadcast's event may have a million), each
followed by its attempts (read per EXPORT_CHUNK records). So memory holds one chunk, whatever the export's size.

Secrets never leave: sealed payload fields (2FA codes, reset tokens) and purged ones are written as the mask, as
is every key the registered handlers or the common list (security.redaction) call sensitive, and error texts are
scrubbed as logs are. A record's status changes are its attempts plus its final status and times: no separate
history of statuses is kept."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any

from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.security.crypto import ENCRYPTED_MARKER
from notifications.security.redaction import MASK, redact, redact_text

#: Events per chunk (and records per attempts query): what memory holds at once.
EXPORT_CHUNK = 1000

EVENT, RECORD, ATTEMPT = "event", "record", "attempt"
KINDS = (EVENT, RECORD, ATTEMPT)

#: The columns of each kind, in order. Flat formats (CSV, Parquet) take their union, COLUMNS.
EVENT_COLUMNS = ("kind", "tenant_id", "event", "event_type", "event_id", "user_id", "occurred_at", "received_at",
                 "source", "payload", "metadata")
RECORD_COLUMNS = ("kind", "tenant_id", "event", "record", "event_type", "user_id", "channel", "recipient",
                  "status", "reason", "error_detail", "provider", "provider_message_id", "attempts", "created_at",
                  "updated_at", "sent_at")
ATTEMPT_COLUMNS = ("kind", "tenant_id", "record", "provider", "started_at", "duration_ms", "outcome", "error_code",
                   "error_detail", "provider_message_id")
COLUMNS = tuple(dict.fromkeys((*EVENT_COLUMNS, *RECORD_COLUMNS, *ATTEMPT_COLUMNS)))
#: Columns holding JSON objects (flat formats write them as JSON text).
JSON_COLUMNS = frozenset({"payload", "metadata"})
#: Integer and time columns (typed in Parquet); every other column is text.
INT_COLUMNS = frozenset({"attempts", "duration_ms"})
TIME_COLUMNS = frozenset({"occurred_at", "received_at", "created_at", "updated_at", "sent_at", "started_at"})

_EVENT_FIELDS = ("id", "event_type", "event_id", "user_id", "occurred_at", "received_at", "source", "payload",
                 "metadata")
_RECORD_FIELDS = ("event_id", "id", "event_type", "user_id", "channel", "recipient", "status", "reason",
                  "error_detail", "provider", "provider_message_id", "attempts", "created_at", "updated_at",
                  "sent_at")
_ATTEMPT_FIELDS = ("record_id", "provider", "started_at", "duration_ms", "outcome", "error_code", "error_detail",
                   "provider_message_id")


@dataclass(frozen=True, slots=True)
class ExportQuery:
    """What to export: one tenant's events received in [since, until), optionally of some types only."""

    tenant_id: str
    since: datetime
    until: datetime
    event_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("since and until must carry a time zone offset")
        if self.since >= self.until:
            raise ValueError("since must be before until")

    def events(self) -> Any:
        query = Event.objects.filter(tenant_id=self.tenant_id, received_at__gte=self.since,
                                     received_at__lt=self.until)
        if self.event_types:
            query = query.filter(event_type__in=self.event_types)
        return query

    def count(self) -> int:
        """How many events the export holds (the command's progress bar counts them)."""
        return int(self.events().count())


def export_rows(query: ExportQuery, *, chunk: int = EXPORT_CHUNK,
                progress: Any = None) -> Iterator[dict[str, Any]]:
    """The export's rows, each a dict of its kind's columns. `progress(events_done)` after each chunk."""
    sensitive = event_registry.redacted_keys()
    events = (query.events().order_by("received_at", "id").values_list(*_EVENT_FIELDS)
              .iterator(chunk_size=chunk))
    done = 0
    for events_chunk in batched(events, chunk):
        for row in events_chunk:
            yield _event_row(query.tenant_id, row, sensitive)
        yield from _records_of(query.tenant_id, [row[0] for row in events_chunk], chunk)
        done += len(events_chunk)
        if progress is not None:
            progress(done)


def _records_of(tenant_id: str, event_ids: list[Any], chunk: int) -> Iterator[dict[str, Any]]:
    records = (NotificationRecord.objects.filter(tenant_id=tenant_id, event_id__in=event_ids)
               .order_by("event_id", "id").values_list(*_RECORD_FIELDS).iterator(chunk_size=chunk))
    for records_chunk in batched(records, chunk):
        attempts: dict[int, list[tuple[Any, ...]]] = {}
        for attempt in (DeliveryAttempt.objects.filter(record_id__in=[row[1] for row in records_chunk])
                        .order_by("record_id", "started_at", "id").values_list(*_ATTEMPT_FIELDS)):
            attempts.setdefault(attempt[0], []).append(attempt)
        for row in records_chunk:
            yield _record_row(tenant_id, row)
            for attempt in attempts.get(row[1], ()):
                yield _attempt_row(tenant_id, attempt)


def _event_row(tenant_id: str, row: tuple[Any, ...], sensitive: frozenset[str]) -> dict[str, Any]:
    pk, event_type, event_id, user_id, occurred_at, received_at, source, payload, metadata = row
    return {"kind": EVENT, "tenant_id": tenant_id, "event": str(pk), "event_type": event_type,
            "event_id": event_id, "user_id": user_id, "occurred_at": occurred_at, "received_at": received_at,
            "source": source, "payload": masked(payload, sensitive), "metadata": masked(metadata, sensitive)}


def _record_row(tenant_id: str, row: tuple[Any, ...]) -> dict[str, Any]:
    (event_id, pk, event_type, user_id, channel, recipient, status, reason, error_detail, provider, message_id,
     attempts, created_at, updated_at, sent_at) = row
    return {"kind": RECORD, "tenant_id": tenant_id, "event": str(event_id), "record": str(pk),
            "event_type": event_type, "user_id": user_id, "channel": channel, "recipient": recipient,
            "status": status, "reason": reason, "error_detail": redact_text(error_detail or ""),
            "provider": provider, "provider_message_id": message_id, "attempts": attempts,
            "created_at": created_at, "updated_at": updated_at, "sent_at": sent_at}


def _attempt_row(tenant_id: str, row: tuple[Any, ...]) -> dict[str, Any]:
    record_id, provider, started_at, duration_ms, outcome, error_code, error_detail, message_id = row
    return {"kind": ATTEMPT, "tenant_id": tenant_id, "record": str(record_id), "provider": provider,
            "started_at": started_at, "duration_ms": duration_ms, "outcome": outcome, "error_code": error_code,
            "error_detail": redact_text(error_detail or ""), "provider_message_id": message_id}


def masked(value: Any, sensitive: frozenset[str]) -> Any:
    """A stored payload or metadata as it may be shown: sealed and purged secrets as the mask, then sensitive
    keys masked and known secret shapes scrubbed (security.redaction)."""
    return redact(_unsealed_as_mask(value), sensitive)


def _unsealed_as_mask(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and (ENCRYPTED_MARKER in value or "$purged" in value):
            return MASK
        return {key: _unsealed_as_mask(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unsealed_as_mask(item) for item in value]
    return value


def batched(items: Iterable[Any], size: int) -> Iterator[tuple[Any, ...]]:
    """itertools.batched of Python 3.12."""
    iterator = iter(items)
    while chunk := tuple(islice(iterator, size)):
        yield chunk


def kinds_in(rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Rows per kind (the command's summary)."""
    counts = dict.fromkeys(KINDS, 0)
    for row in rows:
        counts[row["kind"]] += 1
    return counts
