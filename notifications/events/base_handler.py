"""The handler contract from the guide. A handler decides who hears about an event and what they read; it never
talks to a provider.

Subclass it, set `event_types` (or override `can_handle`), override `get_template_data` and one
`_get_<channel>_content` per channel, then `event_registry.register(MyHandler())`."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from datetime import timedelta
from functools import cache
from typing import Annotated, Any, ClassVar, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict

from notifications.enums import Channel
from notifications.events import content as _content
from notifications.events.examples import EXAMPLE_PAYLOADS, SAMPLE_FALLBACK


@cache
def _dumps_as_its_fields(model: type[BaseModel]) -> bool:
    """Whether model_dump() of this model is its field values and extras as they are: no nested models,
    dataclasses or named tuples (which it would convert), no serializer anywhere in its schema (decorators,
    Annotated ones, computed fields), no excluded fields, keys by field name. Anything else takes model_dump()."""
    if model.model_config.get("serialize_by_alias") or model.model_computed_fields:
        return False
    for field in model.model_fields.values():
        if field.exclude or getattr(field, "exclude_if", None) is not None or not _plain_annotation(field.annotation):
            return False
    return not _has_serializer(model.__pydantic_core_schema__)


def _has_serializer(schema: Any) -> bool:
    if isinstance(schema, dict):
        return "serialization" in schema or any(_has_serializer(value) for value in schema.values())
    if isinstance(schema, (list, tuple)):
        return any(_has_serializer(value) for value in schema)
    return False


def _typed(model: BaseModel) -> dict[str, Any]:
    """model.model_dump(): for a flat model its fields and extras as they are, at a sixth of the cost."""
    if not _dumps_as_its_fields(type(model)):
        return model.model_dump()
    typed = dict(model.__dict__)
    if model.__pydantic_extra__:
        typed.update(model.__pydantic_extra__)
    return typed


_JSON_LEAVES = (str, int, bool, type(None))


@cache
def _not_json_native(model: type[BaseModel]) -> tuple[str, ...] | None:
    """The fields of this model whose values model_dump(mode="json") may change; None when it may change more
    than those (the model does not dump as its fields, above). A field holding only str, int, bool or None
    (Literal, Optional and Annotated of them) is left alone by the JSON mode; any other is listed (dates,
    decimals, URLs; floats too: the JSON mode turns inf into null).

    Fast path, "stored as its fields": parse_payload copies the fields instead of calling model_dump(mode="json")
    when the model holds no extras and each listed field is None: 1.0 -> 0.2 us a bench payload of 12 fields
    (timeit), for 8 of the bench mix's 11 event types (their optional timestamps unset)."""
    if not _dumps_as_its_fields(model):
        return None
    return tuple(name for name, field in model.model_fields.items() if not _json_native(field.annotation))


def _json_native(annotation: Any) -> bool:
    if annotation in _JSON_LEAVES:
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return all(type(value) in _JSON_LEAVES for value in get_args(annotation))
    if origin is Annotated:
        return _json_native(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return all(_json_native(arg) for arg in get_args(annotation))
    return False


def _plain_annotation(annotation: Any) -> bool:
    if isinstance(annotation, type) and (issubclass(annotation, BaseModel) or dataclasses.is_dataclass(annotation)
                                         or (issubclass(annotation, tuple) and annotation is not tuple)):
        return False
    return all(_plain_annotation(arg) for arg in get_args(annotation))


class PayloadRejected(ValueError):
    """A payload its event type refuses, from a handler that validates without pydantic (a tenant-defined type's
    JSON Schema): intake rejects the event with this message, which names the places and never the values."""


class EventPayload(BaseModel):
    """Base payload schema: unknown fields are kept, ids may arrive as numbers."""

    model_config = ConfigDict(extra="allow", coerce_numbers_to_str=True, str_strip_whitespace=True)


# Available to every template besides the handler's own placeholders.
COMMON_PLACEHOLDERS: frozenset[str] = frozenset(
    {
        "company_name",
        "tenant_name",
        "tenant_id",
        "app_url",
        "support_email",
        "logo_url",
        "primary_color",
        "event_type",
        "event_id",
        "event_timestamp",
        "user_id",
        "locale",
        "timezone",  # the recipient's IANA zone (rendering.context): the datetime and date filters show times in it
        "recipient_name",
        "recipient_first_name",
    }
)


# A declared channel (member or text) -> (member, its content method's name); runtime channels build theirs.
_CONTENT_METHODS = {channel: (channel, f"_get_{channel.value}_content") for channel in Channel}


class BaseEventHandler:
    #: Event types this handler serves. A handler that leaves it empty must be registered with event_types=.
    event_types: ClassVar[tuple[str, ...]] = ()
    #: Channels notified by default; None means every channel whose _get_<channel>_content is implemented.
    channels: ClassVar[tuple[Channel, ...] | None] = None
    payload_model: ClassVar[type[BaseModel]] = EventPayload
    #: Payload fields that are secrets: encrypted at rest, masked in listings and logs.
    sensitive_fields: ClassVar[frozenset[str]] = frozenset()
    #: Security-critical notifications users cannot opt out of (and never rate-limited).
    mandatory: ClassVar[bool] = False
    #: Security alerts: users may opt out, but per-user rate limits never drop them.
    security_alert: ClassVar[bool] = False
    @property
    def critical(self) -> bool:
        """Mandatory or a security alert: never rate-limited away, digested, delayed or held for quiet hours
        (delays only when the tenant allows it: notifications/scheduling/timing.py)."""
        return self.mandatory or self.security_alert

    #: Payload fields that fill the tenant's contact directory (registration carries them).
    fills_contacts: ClassVar[bool] = False
    #: Template variables this handler provides, beyond COMMON_PLACEHOLDERS and the payload schema's fields.
    placeholders: ClassVar[tuple[str, ...]] = ()
    #: Default content as Jinja sources, per channel: {"subject": ..., "body": ..., "html": ...}.
    default_templates: ClassVar[Mapping[Channel, Mapping[str, str]]] = {}

    def can_handle(self, event_type: str) -> bool:
        return event_type in self.event_types

    # --- validation -------------------------------------------------------------------------------------------
    def validate_payload(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        """The payload as stored: validated, JSON-safe. Raises pydantic.ValidationError (or PayloadRejected)."""
        return self.payload_model.model_validate(payload).model_dump(mode="json")

    def parse_payload(self, event_type: str, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """(stored, typed) from one validation. A subclass that overrides validate_payload keeps its say."""
        if type(self).validate_payload is not BaseEventHandler.validate_payload:
            stored = self.validate_payload(event_type, payload)
            return stored, self.load_payload(stored)
        model = self.payload_model.model_validate(payload)
        listed = _not_json_native(type(model))
        if listed is not None and not model.__pydantic_extra__:  # fast path "stored as its fields", see there
            stored = dict(model.__dict__)
            if not listed or all(stored[name] is None for name in listed):
                return stored, dict(stored)
        return model.model_dump(mode="json"), _typed(model)

    def load_payload(self, stored: dict[str, Any]) -> dict[str, Any]:
        """A stored payload back as typed values (datetimes, decimals) for building template data."""
        return _typed(self.payload_model.model_validate(stored))

    # --- who --------------------------------------------------------------------------------------------------
    def get_channels(self, event_type: str, payload: dict[str, Any]) -> tuple[Channel, ...]:
        if self.channels is not None:
            return tuple(self.channels)
        return tuple(channel for channel in Channel.known() if self._implements(channel))

    def get_contact_fields(self, payload: dict[str, Any]) -> dict[str, str]:
        """Contact data carried by the payload, used for this event's addresses (and stored if fills_contacts)."""
        fields = ("email", "phone", "first_name", "last_name", "locale")
        return {name: str(payload[name]) for name in fields if payload.get(name)}

    # --- what -------------------------------------------------------------------------------------------------
    def get_template_data(self, payload: dict[str, Any]) -> dict[str, Any]:
        return dict(payload)

    def inbox_ttl(self, payload: dict[str, Any]) -> timedelta | None:
        """How long an in-app message of this event may keep its text. Events with secrets expire (15 minutes
        by default): the stored body is then blanked, so a code does not live on in the inbox."""
        return timedelta(minutes=15) if self.sensitive_fields else None

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        """A hook run after common data (tenant, recipient, locale) is merged in: build links, format values."""
        return context

    def example_payload(self, event_type: str) -> dict[str, Any]:
        """A valid payload of this event type, for previews and the template save check (override to declare
        your own event type's example)."""
        return EXAMPLE_PAYLOADS.get(event_type, SAMPLE_FALLBACK)

    def payload_json_schema(self, event_type: str) -> dict[str, Any]:
        """The payload's JSON Schema, as producer contracts publish it (events/contracts.py)."""
        return self.payload_model.model_json_schema()

    def get_placeholders(self) -> frozenset[str]:
        schema_fields = set(getattr(self.payload_model, "model_fields", {}))
        return COMMON_PLACEHOLDERS | schema_fields | set(self.placeholders)

    def get_content(self, channel: Channel, event_type: str, context: dict[str, Any]) -> dict[str, str]:
        """A channel's content: the handler's `_get_<channel>_content` if it has one, else its default
        templates for the channel (`default_templates[channel]`); the same for every channel, declared or not."""
        member, name = _CONTENT_METHODS.get(channel) or (Channel(channel), f"_get_{Channel(channel).value}_content")
        method = getattr(self, name, None)
        content = method(event_type, context) if method is not None else self._render_default(member, context)
        return {key: "" if value is None else str(value) for key, value in content.items()}

    def _render_default(self, channel: Channel, context: dict[str, Any]) -> dict[str, str]:
        sources = self.default_templates.get(channel)
        if not sources:
            raise NotImplementedError(f"{type(self).__name__} has no content for channel {channel.value}")
        return _content.render_default(type(self), channel, sources, context)

    def _implements(self, channel: Channel) -> bool:
        return hasattr(type(self), f"_get_{channel.value}_content") or channel in self.default_templates

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {', '.join(self.event_types) or '(can_handle)'}>"
