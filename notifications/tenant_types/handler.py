"""The generic handler of a tenant-defined event type: one instance per definition version, built from the
stored definition. It validates with the definition's JSON Schema, notifies its channels and renders its
default templates in the recipient's language; the tenant's own NotificationTemplate (named by the guide's
convention, `<type with dots as underscores>_<channel>`) still wins over them, as for built-ins (the
Renderer decides that, not this class)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications.enums import Channel
from notifications.events.base_handler import COMMON_PLACEHOLDERS, BaseEventHandler, PayloadRejected
from notifications.rendering.engine import render_sources
from notifications.rendering.locales import fallback_chain
from notifications.tenant_types.schemas import (
    JSON_SCHEMA_DIALECT,
    compile_schema,
    payload_errors,
    schema_properties,
)

#: The locale key of a template set that serves any language: looked up after the whole fallback chain.
NEUTRAL_LOCALE = ""


@dataclass(frozen=True)
class Definition:
    """What a handler is built from: a TenantEventType row's values at one version."""

    tenant_id: str
    name: str
    version: int
    payload_schema: dict[str, Any]
    channels: tuple[str, ...]
    templates: Mapping[str, Mapping[str, Mapping[str, str]]]
    example: dict[str, Any]
    is_active: bool = True
    description: str = ""
    #: The row's id: a type deleted and defined again starts at version 1 again, and must not meet the old one's
    #: compiled templates.
    row_id: int = 0


class TenantTypeHandler(BaseEventHandler):
    """`default_locale`: the tenant's settings["default_locale"] when the handler was built (the fallback chain
    goes recipient's locale -> tenant default -> built-in default -> the locale-neutral set)."""

    def __init__(self, definition: Definition, default_locale: str | None = None) -> None:
        self.definition = definition
        self.default_locale = default_locale
        self.active = definition.is_active
        self._validator = compile_schema(definition.payload_schema)
        self._placeholders = COMMON_PLACEHOLDERS | schema_properties(definition.payload_schema)

    @property
    def cache_key(self) -> tuple[str, str, str, tuple[int, int]]:
        """The compiled templates' key prefix (rendering's cache): one per definition (row) and version."""
        return ("tenant-type", self.definition.tenant_id, self.definition.name,
                (self.definition.row_id, self.definition.version))

    def can_handle(self, event_type: str) -> bool:
        return event_type == self.definition.name

    # --- validation -------------------------------------------------------------------------------------------
    def validate_payload(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        errors = payload_errors(self._validator, payload)
        if errors:
            raise PayloadRejected("; ".join(errors))
        return dict(payload)  # unknown fields are kept, as for built-ins

    def parse_payload(self, event_type: str, payload: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        stored = self.validate_payload(event_type, payload)
        return stored, dict(stored)

    def load_payload(self, stored: dict[str, Any]) -> dict[str, Any]:
        return dict(stored)

    def payload_json_schema(self, event_type: str) -> dict[str, Any]:
        return {"$schema": JSON_SCHEMA_DIALECT, **self.definition.payload_schema}

    # --- who and what -----------------------------------------------------------------------------------------
    def get_channels(self, event_type: str, payload: dict[str, Any]) -> tuple[Channel, ...]:
        return tuple(Channel(channel) for channel in self.definition.channels)

    def example_payload(self, event_type: str) -> dict[str, Any]:
        return dict(self.definition.example)

    def get_placeholders(self) -> frozenset[str]:
        return self._placeholders

    def locale_for(self, channel: Channel | str, locale: str | None) -> str | None:
        """The locale key of the template set a recipient reading `locale` gets, or None if the channel has none."""
        sets = self.definition.templates.get(Channel(channel).value) or {}
        for candidate in (*fallback_chain(locale, self.default_locale), NEUTRAL_LOCALE):
            if candidate in sets:
                return candidate
        return None

    def get_content(self, channel: Channel, event_type: str, context: dict[str, Any]) -> dict[str, str]:
        value = Channel(channel).value
        locale = self.locale_for(value, context.get("locale"))
        if locale is None:
            raise NotImplementedError(f"{event_type} has no {value} template")
        sources = self.definition.templates[value][locale]
        return render_sources((*self.cache_key, value, locale), sources, context,
                              label=f"{event_type} v{self.definition.version} {value} [{locale or 'any'}]",
                              tenant_id=self.definition.tenant_id)

    def _implements(self, channel: Channel) -> bool:
        return Channel(channel).value in self.definition.templates

    def __repr__(self) -> str:
        return f"<TenantTypeHandler {self.definition.tenant_id}:{self.definition.name} v{self.definition.version}>"
