"""Checks a tenant template before it is saved: known event and channel, required fields, syntax, and
placeholders the event actually provides."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from jinja2 import TemplateSyntaxError, meta

from notifications.enums import Channel
from notifications.rendering.engine import env_for

if TYPE_CHECKING:
    from notifications.rendering.models import NotificationTemplate

REQUIRED_CONTENT: dict[Channel, tuple[str, ...]] = {
    Channel.EMAIL: ("subject", "body"),
    Channel.SMS: ("body",),
    Channel.PUSH: ("title", "body"),
    Channel.IN_APP: ("title", "body"),
}
ALLOWED_CONTENT: dict[Channel, frozenset[str]] = {
    Channel.EMAIL: frozenset({"subject", "body", "html"}),
    Channel.SMS: frozenset({"body"}),
    Channel.PUSH: frozenset({"title", "body", "action_url", "image_url"}),
    Channel.IN_APP: frozenset({"title", "body", "action_url"}),
}


def validate_template(template: "NotificationTemplate") -> None:
    from notifications.events.registry import event_registry

    try:
        channel = Channel.parse(str(template.channel))
    except ValueError as err:
        raise ValidationError({"channel": f"unknown channel {template.channel!r}"}) from err
    template.channel = channel.value
    found = event_registry.handler_for_template_name(template.name)
    if found is None:
        raise ValidationError(
            {"name": f"no registered event type has a template named {template.name!r} "
             "(expected '<event_type with dots as underscores>_<channel>')"}
        )
    event_type, handler = found
    if not template.name.endswith(f"_{channel.value}"):
        raise ValidationError({"channel": f"template {template.name!r} is not for channel {channel.value!r}"})
    if not isinstance(template.content, dict):
        raise ValidationError({"content": "content must be an object of text fields"})
    missing = [field for field in REQUIRED_CONTENT[channel] if not template.content.get(field)]
    if missing:
        raise ValidationError({"content": f"{channel.value} templates need field(s): {', '.join(missing)}"})
    extra = sorted(set(template.content) - ALLOWED_CONTENT[channel])
    if extra:
        raise ValidationError({"content": f"unknown content field(s) for {channel.value}: {', '.join(extra)}"})
    if not isinstance(template.placeholders, list) or not all(isinstance(p, str) for p in template.placeholders):
        raise ValidationError({"placeholders": "placeholders must be a list of names"})

    used: set[str] = set()
    for field, source in template.content.items():
        if not isinstance(source, str):
            raise ValidationError({"content": f"field {field!r} must be text"})
        try:
            used |= meta.find_undeclared_variables(env_for(field).parse(source))
        except TemplateSyntaxError as err:
            raise ValidationError({"content": f"field {field!r}: syntax error on line {err.lineno}: {err.message}"}) from err
    allowed = handler.get_placeholders()
    unknown = sorted((used | set(template.placeholders)) - allowed)
    if unknown:
        raise ValidationError(
            {"placeholders": f"unknown placeholder(s) for {event_type}: {', '.join(unknown)}"}
        )
    from notifications.rendering.trial import check_budget

    check_budget(template, event_type, handler)
