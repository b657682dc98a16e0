"""Checks a tenant template before it is saved: known event and channel, required fields, syntax, and
placeholders the event actually provides."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from jinja2 import TemplateSyntaxError, meta

from notifications.channels.spec import UnknownChannel, parse_channel
from notifications.digests.rules import DIGEST_PLACEHOLDERS, DIGEST_SUFFIX
from notifications.rendering.engine import env_for
from notifications.rendering.locales import canonical

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

if TYPE_CHECKING:
    from notifications.rendering.models import NotificationTemplate


def checked_locale(value: object, field: str = "locale") -> str:
    """A template's or a preview's locale, canonical ('de_at' -> 'de-AT'); "" stays "". Unknown: ValidationError."""
    if value in ("", None):
        return ""
    found = canonical(value) if isinstance(value, str) else None
    if found is None:
        raise ValidationError({field: f"unknown locale {value!r}: expected a BCP 47 tag such as 'de' or 'de-AT'"})
    return found


def validate_template(template: NotificationTemplate) -> None:
    from notifications.events.registry import event_registry

    try:
        spec = parse_channel(str(template.channel))
    except UnknownChannel as err:
        raise ValidationError({"channel": f"unknown channel {template.channel!r}"}) from err
    template.channel = spec.value
    template.locale = checked_locale(template.locale)
    # A digest template (notifications/digests) is named after its event type's: `<name>_digest`.
    name = template.name.removesuffix(DIGEST_SUFFIX)
    found = event_registry.handler_for_template_name(name, template.tenant_id)
    if found is None:
        raise ValidationError(
            {"name": f"no registered event type has a template named {template.name!r} "
             "(expected '<event_type with dots as underscores>_<channel>')"}
        )
    event_type, handler = found
    if not name.endswith(f"_{spec.value}"):
        raise ValidationError({"channel": f"template {template.name!r} is not for channel {spec.value!r}"})
    if not isinstance(template.content, dict):
        raise ValidationError({"content": "content must be an object of text fields"})
    missing = [field for field in spec.required_fields if not template.content.get(field)]
    if missing:
        raise ValidationError({"content": f"{spec.value} templates need field(s): {', '.join(missing)}"})
    extra = sorted(set(template.content) - spec.allowed_fields)
    if extra:
        raise ValidationError({"content": f"unknown content field(s) for {spec.value}: {', '.join(extra)}"})
    if not isinstance(template.placeholders, list) or not all(isinstance(p, str) for p in template.placeholders):
        raise ValidationError({"placeholders": "placeholders must be a list of names"})

    used: set[str] = set()
    for field, source in template.content.items():
        if not isinstance(source, str):
            raise ValidationError({"content": f"field {field!r} must be text"})
        try:
            used |= meta.find_undeclared_variables(env_for(field).parse(source))
        except TemplateSyntaxError as err:
            message = f"field {field!r}: syntax error on line {err.lineno}: {err.message}"
            raise ValidationError({"content": message}) from err
    allowed = handler.get_placeholders() | (DIGEST_PLACEHOLDERS if name != template.name else set())
    # A field the producers send beyond the event type's schema is kept and passed to templates (issue 19.5):
    # the template names it in `placeholders`, saying "my producers send this" (a typo elsewhere still fails).
    bad = [name for name in template.placeholders if not _IDENTIFIER.fullmatch(name)]
    if bad:
        raise ValidationError({"placeholders": f"not a field name: {', '.join(map(repr, bad[:5]))}"})
    declared = set(template.placeholders)
    unknown = sorted(used - allowed - declared)
    if unknown:
        raise ValidationError(
            {"placeholders": f"unknown placeholder(s) for {event_type}: {', '.join(unknown)} (a field your "
             "producers send beyond the event type's schema can be used once listed in `placeholders`)"}
        )
    from notifications.rendering.trial import check_budget

    check_budget(template, event_type, handler)
