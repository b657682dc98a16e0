"""A definition checked before it is saved. Each error names the bad part: a JSON pointer into the schema
(`payload_schema: /properties/amount/type: ...`), a channel and locale of a template
(`templates.email.de: ...`), the example's place (`example: /amount: ...`).

Raises django's ValidationError with a dict, which the API answers as 422 and the admin shows per field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from jinja2 import TemplateSyntaxError, meta

from notifications.channels.spec import UnknownChannel, channel_spec, parse_channel
from notifications.errors import TemplateRenderError
from notifications.events.base_handler import COMMON_PLACEHOLDERS
from notifications.events.naming import template_name
from notifications.events.registry import event_registry
from notifications.rendering.engine import env_for, render_sources
from notifications.rendering.locales import canonical
from notifications.rendering.trial import sample_context
from notifications.storable import json_problem
from notifications.tenant_types.handler import NEUTRAL_LOCALE, Definition, TenantTypeHandler
from notifications.tenant_types.schemas import compile_schema, payload_errors, schema_problem, schema_properties
from notifications.tenants.models import Tenant

#: Lower-case dotted words, at least two ("order.shipped"): a valid envelope event_type, and no underscores, so
#: that the template naming convention (dots become underscores) gives each type its own names.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9-]*(?:\.[a-z0-9][a-z0-9-]*)+\Z")
MAX_NAME = 128
MAX_DESCRIPTION = 2_000
MAX_TEMPLATE_CHARS = 20_000
MAX_EXAMPLE_BYTES = 16_384


def check_name(name: Any) -> str:
    if not isinstance(name, str) or len(name) > MAX_NAME or not NAME_PATTERN.match(name):
        raise ValidationError({"name": f"an event type name is lower-case dotted words such as 'order.shipped' "
                                       f"(letters, digits, '-'; at most {MAX_NAME} characters)"})
    served = event_registry.get_handler(name)  # built-ins, the host's handlers, fallback handlers' can_handle
    if served is not None:
        raise ValidationError({"name": f"{name!r} is served by the handler {type(served).__name__} "
                                       "(built-in or the host's): it cannot be redefined by a tenant"})
    underscored = name.replace(".", "_")
    for event_type in event_registry.event_types:
        if event_type.replace(".", "_") == underscored:
            raise ValidationError({"name": f"{name!r} would share its template names with {event_type!r}"})
    return name


def check_definition(tenant: Tenant, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The definition's fields as they are stored (channels and locales in canonical form), or ValidationError
    naming the first bad part."""
    description = data.get("description") or ""
    if not isinstance(description, str) or len(description) > MAX_DESCRIPTION:
        raise ValidationError({"description": f"text of at most {MAX_DESCRIPTION} characters"})
    schema = data.get("payload_schema")
    problem = schema_problem(schema)
    if problem is not None or not isinstance(schema, dict):
        where, message = problem or ("", "the payload schema must be a JSON object")
        raise ValidationError({"payload_schema": f"{where or '/'}: {message}"})
    channels = _channels(data.get("channels"))
    templates = _templates(data.get("templates"), channels, schema_properties(schema))
    example = _example(data.get("example"), schema)
    cleaned = {"description": description, "payload_schema": schema, "channels": list(channels),
               "templates": templates, "example": example}
    _trial_render(tenant, name, cleaned)
    return cleaned


def _channels(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ValidationError({"channels": "a non-empty list of channel names"})
    found: list[str] = []
    for index, item in enumerate(value):
        try:
            channel = parse_channel(item).value
        except UnknownChannel as err:
            raise ValidationError({"channels": f"[{index}]: unknown channel {item[:40]!r}"}) from err
        if channel in found:
            raise ValidationError({"channels": f"[{index}]: {channel} is listed twice"})
        found.append(channel)
    return tuple(found)


def _templates(value: Any, channels: tuple[str, ...], properties: frozenset[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError({"templates": "an object {channel: {locale: {field: template}}}"})
    problem = json_problem(value, max_text=MAX_TEMPLATE_CHARS * 20)
    if problem:
        raise ValidationError({"templates": problem})
    cleaned: dict[str, dict[str, dict[str, str]]] = {}
    for key, sets in value.items():
        try:
            channel = parse_channel(key).value
        except UnknownChannel as err:
            raise ValidationError({f"templates.{key[:40]}": "unknown channel"}) from err
        if channel not in channels:
            raise ValidationError({f"templates.{channel}": "not one of the type's channels"})
        if not isinstance(sets, dict):
            raise ValidationError({f"templates.{channel}": 'an object {locale: {field: template}} (locale "" '
                                                           "serves any language)"})
        cleaned[channel] = {}
        for locale, fields in sets.items():
            tag = NEUTRAL_LOCALE if locale == NEUTRAL_LOCALE else canonical(locale)
            if tag is None:
                raise ValidationError({f"templates.{channel}.{str(locale)[:40]}": "not a BCP 47 locale tag"})
            if tag in cleaned[channel]:
                raise ValidationError({f"templates.{channel}.{tag}": "given twice (in two spellings)"})
            cleaned[channel][tag] = _template_set(channel, tag, fields, properties)
    missing = [channel for channel in channels if not cleaned.get(channel)]
    if missing:
        raise ValidationError({f"templates.{missing[0]}": "each channel needs a template in at least one locale"})
    return cleaned


def _template_set(channel: str, locale: str, fields: Any, properties: frozenset[str]) -> dict[str, str]:
    where = f"templates.{channel}.{locale}" if locale else f"templates.{channel}.\"\""
    spec = channel_spec(channel)
    if not isinstance(fields, dict) or not all(isinstance(source, str) for source in fields.values()):
        raise ValidationError({where: "an object of text fields"})
    missing = [field for field in spec.required_fields if not fields.get(field)]
    if missing:
        raise ValidationError({where: f"{channel} templates need field(s): {', '.join(missing)}"})
    extra = sorted(set(fields) - spec.allowed_fields)
    if extra:
        raise ValidationError({where: f"unknown field(s) for {channel}: {', '.join(extra)}"})
    allowed = COMMON_PLACEHOLDERS | properties
    for field, source in fields.items():
        if len(source) > MAX_TEMPLATE_CHARS:
            raise ValidationError({f"{where}.{field}": f"longer than {MAX_TEMPLATE_CHARS} characters"})
        try:
            used = meta.find_undeclared_variables(env_for(field).parse(source))
        except TemplateSyntaxError as err:
            raise ValidationError({f"{where}.{field}": f"syntax error on line {err.lineno}: {err.message}"}) from err
        unknown = sorted(used - allowed)
        if unknown:
            raise ValidationError({f"{where}.{field}": f"unknown placeholder(s): {', '.join(unknown)} (the "
                                                       "schema's properties and the common placeholders)"})
    return dict(fields)


def _example(value: Any, schema: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValidationError({"example": "a payload object the schema accepts"})
    problem = json_problem(value, max_text=MAX_EXAMPLE_BYTES)
    if problem:
        raise ValidationError({"example": problem})
    errors = payload_errors(compile_schema(schema), value)
    if errors:
        raise ValidationError({"example": f"the schema refuses it: {'; '.join(errors)}"})
    return value


def _trial_render(tenant: Tenant, name: str, cleaned: dict[str, Any]) -> None:
    """Every template set rendered with the example, under the render budget: a set that fails with the
    tenant's own example would fail its records."""
    handler = TenantTypeHandler(Definition(
        tenant_id=tenant.id, name=name, version=0, payload_schema=cleaned["payload_schema"],
        channels=tuple(cleaned["channels"]), templates=cleaned["templates"], example=cleaned["example"]))
    context = sample_context(handler, name, tenant)
    for channel, sets in cleaned["templates"].items():
        for locale, sources in sets.items():
            try:
                render_sources(None, sources, {**context, "locale": locale or context["locale"]},
                               label=f"{template_name(name, channel)} [{locale or 'any'}]", tenant_id=tenant.id)
            except TemplateRenderError as err:
                where = f"templates.{channel}.{locale}" if locale else f"templates.{channel}.\"\""
                raise ValidationError({where: f"rendering the example failed: {err}"}) from None
