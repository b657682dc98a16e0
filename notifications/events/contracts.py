"""Producer contracts: what a producer may publish, as JSON Schema. `GET /api/v1/event-types` shows them and
`manage.py event_schemas --out DIR` writes them as files.

A contract lists one event type: its name, the JSON Schema of its payload (the handler's pydantic
`payload_model.model_json_schema()`), its channels, whether it is critical (mandatory or a security alert) and an
example event (an envelope around `examples.EXAMPLE_PAYLOADS`, or the handler's `example_payload`). The envelope's
own schema (`envelope_schema()`) is given once beside them, not repeated in every type.

Where the types come from: `event_type_sources` lists the sources a tenant's listing is built from: first
the handlers registered in `event_registry` (built-in and the host project's), the same for every tenant; then
the tenant's own types (notifications/tenant_types, `"source": "tenant"`) are a second source, appended by
NotificationsConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from notifications.audiences.parse import MAX_RECIPIENTS, MAX_USER_ID, TOPIC_KEY
from notifications.events.base_handler import BaseEventHandler
from notifications.events.envelope import MAX_CANCEL_KEY, MAX_ID_LENGTH
from notifications.events.examples import EXAMPLE_TIME
from notifications.scheduling.parse import MAX_TEXT
from notifications.tenants.models import TENANT_ID_PATTERN

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: The tenant id written into examples and schema files, which belong to no tenant.
EXAMPLE_TENANT = "your-tenant-id"

_ID = {"type": ["string", "integer"], "maxLength": MAX_ID_LENGTH}


def envelope_schema() -> dict[str, Any]:
    """The JSON Schema of the envelope every event travels in (envelope.py and audiences/parse.py check it); its
    `payload` is the event type's own schema. An event is addressed to one user (`user_id`, or the payload's) or
    to an audience (`recipients`, `to_topic` or `to_all`), not both."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "Event envelope",
        "type": "object",
        "required": ["event_type", "tenant_id", "timestamp", "payload"],
        "properties": {
            "event_type": {"type": "string", "minLength": 1, "maxLength": 128,
                           "description": "One of the listed event types"},
            "tenant_id": {"type": "string", "pattern": "^" + TENANT_ID_PATTERN.pattern.removesuffix(r"\Z") + "$"},
            "timestamp": {"type": "string", "format": "date-time", "description":
                          "ISO 8601, when it happened; without an offset it is read as UTC"},
            "payload": {"type": "object", "description": "The event type's payload (its own schema)"},
            "event_id": {**_ID, "description": "The producer's id: events with the same id are one event (a retry "
                         "is deduplicated); without it the event's content is hashed instead"},
            "user_id": {"type": ["string", "integer", "null"], "maxLength": MAX_ID_LENGTH,
                        "description": "The recipient; defaults to payload.user_id"},
            "recipients": {"type": "array", "minItems": 1, "maxItems": MAX_RECIPIENTS,
                           "items": {"type": ["string", "integer"], "minLength": 1, "maxLength": MAX_USER_ID},
                           "description": "An audience of user ids instead of user_id (or payload.user_ids)"},
            "to_topic": {"type": "string", "pattern": "^" + TOPIC_KEY.pattern + "$",
                         "description": "An audience: the subscribers of this topic"},
            "to_all": {"type": "boolean", "description": "An audience: every user of the tenant"},
            "metadata": {"type": "object", "description": "Kept with the event, not shown to recipients"},
            "deliver_at": {"type": "string", "format": "date-time", "maxLength": MAX_TEXT,
                           "description": "Deliver then (with an offset); not with delay"},
            "delay": {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "maxLength": MAX_TEXT}],
                      "description": "Seconds, or an ISO 8601 duration such as PT10M; not with deliver_at"},
            "cancel_key": {"type": "string", "minLength": 1, "maxLength": MAX_CANCEL_KEY,
                           "description": "A notification.cancel event with this key cancels what is not sent"},
        },
        "additionalProperties": True,
    }


def payload_schema(handler: BaseEventHandler, event_type: str) -> dict[str, Any]:
    schema = handler.payload_json_schema(event_type)
    return {"$schema": JSON_SCHEMA_DIALECT, **schema, "title": f"{event_type} payload"}


def example_event(handler: BaseEventHandler, event_type: str, tenant_id: str = EXAMPLE_TENANT) -> dict[str, Any]:
    return {
        "event_type": event_type,
        "tenant_id": tenant_id,
        "timestamp": EXAMPLE_TIME.isoformat(),
        "event_id": f"example-{event_type}",
        "payload": dict(handler.example_payload(event_type)),
    }


def contract(handler: BaseEventHandler, event_type: str, source: str,
             tenant_id: str = EXAMPLE_TENANT) -> dict[str, Any]:
    """One event type's contract, as listed and as written to its schema file."""
    example = handler.example_payload(event_type)
    return {
        "name": event_type,
        "source": source,
        "channels": [str(getattr(channel, "value", channel)) for channel in handler.get_channels(event_type,
                                                                                                 example)],
        "critical": handler.critical,
        "mandatory": handler.mandatory,
        "security_alert": handler.security_alert,
        "sensitive_fields": sorted(handler.sensitive_fields),
        "payload_schema": payload_schema(handler, event_type),
        "example": example_event(handler, event_type, tenant_id),
    }


def _registered(tenant_id: str) -> Iterator[tuple[str, BaseEventHandler, str]]:
    """The handlers in code (built-in, or the host project's), the same for every tenant. A handler known only by
    `can_handle` has no names to list and is left out."""
    from notifications.events.handlers import BUILTIN_HANDLERS
    from notifications.events.registry import event_registry

    for event_type in event_registry.event_types:
        handler = event_registry.get_handler(event_type)
        if handler is not None:
            yield event_type, handler, "built-in" if type(handler) in BUILTIN_HANDLERS else "host"


#: Where a tenant's event types come from, in order; the first source naming a type wins.
event_type_sources: list[Callable[[str], Iterator[tuple[str, BaseEventHandler, str]]]] = [_registered]


def event_type_contracts(tenant_id: str = EXAMPLE_TENANT) -> list[dict[str, Any]]:
    """Every event type `tenant_id` can publish, by name."""
    seen: dict[str, dict[str, Any]] = {}
    for source in event_type_sources:
        for event_type, handler, origin in source(tenant_id):
            seen.setdefault(event_type, contract(handler, event_type, origin, tenant_id))
    return [seen[name] for name in sorted(seen)]
