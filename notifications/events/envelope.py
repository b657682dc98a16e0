"""Parsing and validation of the event envelope, before any handler runs.

Every failure becomes an `EventRejection` carrying a `RejectionReason`; nothing here raises to the caller."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from pydantic import ValidationError

from notifications.audiences.parse import Audience, parse_audience
from notifications.enums import RejectionReason
from notifications.events.base_handler import PayloadRejected
from notifications.events.decoding import MAX_DEPTH, decode
from notifications.scheduling.parse import requested_time
from notifications.storable import CANCEL_KEY_LENGTH
from notifications.tenants.models import TENANT_ID_PATTERN

if TYPE_CHECKING:
    from notifications.events.base_handler import BaseEventHandler
    from notifications.events.registry import EventRegistry

REQUIRED_FIELDS = ("event_type", "tenant_id", "timestamp", "payload")
MAX_ID_LENGTH = 128
MAX_CANCEL_KEY = CANCEL_KEY_LENGTH
#: The user_id an audience event's payload is validated with; each recipient's copy carries their own.
AUDIENCE_USER = "*"


@dataclass(frozen=True)
class EventRejection:
    reason: RejectionReason
    detail: str
    raw: Any
    tenant_id: str = ""
    event_type: str = ""


@dataclass(slots=True)  # not frozen: a frozen dataclass's __init__ was a visible share of intake
class ValidatedEvent:
    event_type: str
    tenant_id: str
    timestamp: datetime
    payload: dict[str, Any]
    handler: BaseEventHandler
    dedupe_key: str
    event_id: str = ""
    user_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: Any = None
    typed: dict[str, Any] | None = None  # the payload as Python values (datetimes, decimals), for rendering
    deliver_at: datetime | None = None  # the time the event asks for (deliver_at or delay); None: at once
    cancel_key: str = ""  # the records of this event not yet sent are cancelled by cancelling this key
    audience: Audience | None = None  # many recipients instead of user_id (notifications/audiences)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _structure_problem(value: Any) -> str | None:
    """Why a decoded event cannot be stored as is (NUL or lone surrogates, which PostgreSQL and UTF-8 refuse;
    NaN or infinite numbers, which JSON has not; nesting deeper than MAX_DEPTH), or None. Iterative, so hostile
    nesting cannot exhaust the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, str):
            if _UNSTORABLE.search(item):
                return "contains a NUL character or an invalid Unicode surrogate"
        elif isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, float) and not math.isfinite(item):
            return "holds a number that is not finite"
    return None


def cancel_key_problem(value: Any) -> str | None:
    """Why `value` is not a cancel key, or None: the envelope's `cancel_key`, and a `notification.cancel`
    event's payload (events/handlers/control.py)."""
    if type(value) is not str or not 0 < len(value) <= MAX_CANCEL_KEY or not value.strip():
        return f"cancel_key must be a non-empty string of at most {MAX_CANCEL_KEY} characters"
    if "\x00" in value or any("\ud800" <= char <= "\udfff" for char in value):
        return "cancel_key must not contain NUL characters or lone surrogates"
    return None


def _parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    except ValueError:
        return None
    # The guide publishes datetime.utcnow().isoformat(): naive means UTC.
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    elif parsed.tzinfo is not UTC:
        try:
            parsed = parsed.astimezone(UTC)
        except OverflowError:
            return None
    return parsed if 1970 <= parsed.year <= 9000 else None


def _optional_id(value: Any) -> str | None:
    if type(value) is str:
        return value if len(value) <= MAX_ID_LENGTH else None
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value)
    return text if len(text) <= MAX_ID_LENGTH else None


def dedupe_key_for(event_id: str, canonical: dict[str, Any] | None) -> str:
    if event_id:
        return f"id:{event_id}"
    digest = hashlib.sha256(
        json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str).encode()
    ).hexdigest()
    return f"sha256:{digest}"


def format_validation_error(err: ValidationError) -> tuple[bool, str]:
    """(is it only missing fields?, a readable message naming the fields and never their values)."""
    parts = []
    only_missing = True
    for item in err.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or "payload"
        if item["type"] != "missing":
            only_missing = False
        parts.append(f"{location}: {item['msg']}")
    return only_missing, "; ".join(parts)


def _invalid(data: dict[str, Any], detail: str) -> EventRejection:
    event_type = data.get("event_type")
    return EventRejection(RejectionReason.INVALID_FIELD, detail, data, tenant_id=str(data.get("tenant_id"))[:200],
                          event_type=event_type if isinstance(event_type, str) else "")


def validate_event(raw: Any, registry: EventRegistry) -> ValidatedEvent | EventRejection:
    """The event, or why it is refused. Never raises: whatever fails while reading one event (a handler's bug,
    recursion, memory) is that event's rejection, named by the error's type and never its text (it may quote
    a value)."""
    try:
        return _validate(raw, registry)
    except Exception as err:  # noqa: BLE001 - one event's failure is that event's rejection
        return failed_validation(raw, err)


def failed_validation(raw: Any, err: BaseException) -> EventRejection:
    """The rejection of an event whose validation raised, with its tenant and type when they can be read."""
    data = raw if isinstance(raw, dict) else decode(raw)[0]
    data = data if isinstance(data, dict) else None
    event_type = data.get("event_type") if data else None
    tenant_id = data.get("tenant_id") if data else None
    return EventRejection(
        RejectionReason.PROCESSING_ERROR, f"validating the event failed: {type(err).__name__}", raw,
        tenant_id=tenant_id[:200] if isinstance(tenant_id, str) else "",
        event_type=event_type[:200] if isinstance(event_type, str) else "",
    )


def _validate(raw: Any, registry: EventRegistry) -> ValidatedEvent | EventRejection:
    data, error, plain = decode(raw)
    if error is not None:
        return EventRejection(RejectionReason.INVALID_JSON, f"invalid JSON: {error}", raw)
    if not isinstance(data, dict):
        return EventRejection(
            RejectionReason.INVALID_FIELD, f"an event must be a JSON object, not {type(data).__name__}", raw
        )
    problem = None if plain else _structure_problem(data)
    if problem:
        # Refused here rather than failing the batch's transaction later.
        return EventRejection(RejectionReason.INVALID_FIELD, f"the event {problem}", raw)

    tenant_value = data.get("tenant_id")
    event_type = data.get("event_type")
    event_type_text = event_type if isinstance(event_type, str) else ""
    if tenant_value is None or (isinstance(tenant_value, str) and not tenant_value.strip()):
        return EventRejection(
            RejectionReason.MISSING_TENANT_ID, "tenant_id is required", data, event_type=event_type_text
        )
    timestamp_value, payload_value = data.get("timestamp"), data.get("payload")
    if event_type is None or timestamp_value is None or payload_value is None:
        missing = [name for name in REQUIRED_FIELDS if data.get(name) is None]
        return EventRejection(
            RejectionReason.MISSING_FIELD,
            f"missing required field(s): {', '.join(missing)}",
            data,
            tenant_id=str(tenant_value),
            event_type=event_type_text,
        )

    if not isinstance(tenant_value, str) or not TENANT_ID_PATTERN.match(tenant_value):
        return _invalid(data, "tenant_id must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
    if not isinstance(event_type, str) or len(event_type) > 128 or not event_type.strip():
        return _invalid(data, "event_type must be a non-empty string of at most 128 characters")
    timestamp = _parse_timestamp(timestamp_value)
    if timestamp is None:
        return _invalid(data, "timestamp must be an ISO 8601 date-time string between 1970 and 9000")
    if not isinstance(payload_value, dict):
        return _invalid(data, "payload must be a JSON object")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        return _invalid(data, "metadata must be a JSON object")
    event_id = _optional_id(data.get("event_id"))
    if event_id is None:
        return _invalid(data, f"event_id must be a string or integer of at most {MAX_ID_LENGTH} characters")
    envelope_user = _optional_id(data.get("user_id"))
    if envelope_user is None:
        return _invalid(data, f"user_id must be a string or integer of at most {MAX_ID_LENGTH} characters")

    cancel_key = data.get("cancel_key")
    if cancel_key is not None:
        problem = cancel_key_problem(cancel_key)
        if problem is not None:
            return _invalid(data, problem)
    deliver_at = None
    if data.get("deliver_at") is not None or data.get("delay") is not None:
        deliver_at, problem = requested_time(data.get("deliver_at"), data.get("delay"), timezone.now())
        if problem is not None:
            return _invalid(data, problem)

    audience, problem = parse_audience(data, payload_value, envelope_user)
    if problem is not None:
        return _invalid(data, problem)

    handler = registry.get_handler(event_type, tenant_value)  # the tenant's own types too, once prepared
    if handler is None:
        return EventRejection(
            RejectionReason.UNSUPPORTED_EVENT_TYPE,
            f"unsupported event type {event_type!r}",
            data,
            tenant_id=tenant_value,
            event_type=event_type,
        )
    if audience is not None:
        if handler.channels is not None and not handler.channels:  # a control event (notification.cancel)
            return _invalid(data, f"{event_type} notifies no one: address it without recipients, to_topic or "
                                  "to_all")
        if handler.sensitive_fields:
            return _invalid(data, f"{event_type} carries secrets and goes to one user_id only, never to an audience")
        # Each recipient's copy of the payload gets their user_id (audiences.fanout); validated with a stand-in.
        payload_value = {**{k: v for k, v in payload_value.items() if k != "user_ids"}, "user_id": AUDIENCE_USER}
    try:
        payload, typed = handler.parse_payload(event_type, payload_value)
    except (ValidationError, PayloadRejected) as err:
        message = format_validation_error(err)[1] if isinstance(err, ValidationError) else str(err)
        return EventRejection(
            RejectionReason.INVALID_PAYLOAD_FIELD,
            f"invalid payload for {event_type}: {message}",
            data,
            tenant_id=tenant_value,
            event_type=event_type,
        )
    if audience is not None:
        payload.pop("user_id", None)
        typed.pop("user_id", None)
        payload_value = data["payload"]
    user_id = envelope_user or str(payload.get("user_id") or "")
    canonical = None if event_id else {
        "event_type": event_type,
        "tenant_id": tenant_value,
        "timestamp": timestamp.isoformat(),
        "user_id": user_id,
        "payload": payload_value,
        # The schedule as sent, not the instant it was read as: a `delay` counts from intake, so a redelivery would
        # make another instant (and a deliver_at that has passed meanwhile reads as "now"), and the same message
        # must keep the same key.
        **{name: data[name] for name in ("deliver_at", "delay") if data.get(name) is not None},
        **({"cancel_key": cancel_key} if cancel_key else {}),
        **(audience.canonical() if audience is not None else {}),
    }
    return ValidatedEvent(
        event_type=event_type,
        tenant_id=tenant_value,
        timestamp=timestamp,
        payload=payload,
        handler=handler,
        dedupe_key=dedupe_key_for(event_id, canonical),
        event_id=event_id,
        user_id=user_id,
        metadata=metadata,
        raw=data,
        typed=typed,
        deliver_at=deliver_at,
        cancel_key=cancel_key or "",
        audience=audience,
    )
