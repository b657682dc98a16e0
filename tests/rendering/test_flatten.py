"""notifications/rendering/flatten.py: every built-in text, written out in each language, renders as the
original does in that language (with the sample payloads, and their variants with counts 0, 1, 2 and display
fields left out)."""

from __future__ import annotations

import pytest

from notifications.digests.render import DEFAULT_DIGEST_TEMPLATES, GENERIC_DIGEST_TEMPLATES
from notifications.enums import Channel
from notifications.events.handlers import BUILTIN_HANDLERS
from notifications.i18n import LANGUAGES
from notifications.rendering import engine
from notifications.rendering.flatten import flatten
from notifications.rendering.trial import sample_context
from notifications.tenants.models import Tenant
from notifications.testing import EXAMPLE_PAYLOADS

pytestmark = pytest.mark.django_db

VARIANTS = [{}, {"first_name": None, "mentioned_by": None, "liked_by": None, "assigned_by": None,
                 "content_title": None, "task_title": None, "location": None, "payment_method": None},
            {"attempt_count": 0, "like_count": 1}, {"attempt_count": 1, "like_count": 2},
            {"attempt_count": 2, "like_count": 3}]


def _contexts(language: str):
    tenant = Tenant(id="acme", name="Acme", app_url="https://acme.example.com")
    for handler_cls in BUILTIN_HANDLERS:
        handler = handler_cls()
        for event_type in handler_cls.event_types:
            if event_type not in EXAMPLE_PAYLOADS or not handler_cls.default_templates:
                continue
            for variant in VARIANTS:
                payload = {**EXAMPLE_PAYLOADS[event_type], "locale": language}
                payload.update({k: v for k, v in variant.items() if k in payload or v is not None})
                payload = {k: v for k, v in payload.items() if v is not None}
                if event_type == "auth.2fa.attempt.failed" and payload.get("attempt_count") == 0:
                    continue  # at least 1 by its schema
                yield handler_cls.default_templates, sample_context(handler, event_type, tenant, payload)


def _render(source: str, context: dict, language: str) -> str:
    return engine.env_for("body", language).from_string(source).render(context)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_built_in_text_flattened_renders_as_the_original(language):
    checked = 0
    for templates, context in _contexts(language):
        for sources in templates.values():
            for source in sources.values():
                flat = flatten(source, language)
                assert "trans" not in flat
                assert _render(flat, context, "en") == _render(source, context, language), source
                checked += 1
    digests = [*(s for c in DEFAULT_DIGEST_TEMPLATES.values() for s in c.values()), *GENERIC_DIGEST_TEMPLATES.values()]
    for count in (0, 1, 2):
        events = [{"liked_by": "Jane", "mentioned_by": "", "resource_title": "Plan"}] * count
        context = {"count": count, "others": max(count - 1, 0), "liker": "Jane", "mentioner": "Jane",
                   "someone": "X", "events": events, "recipient_first_name": "Jo", "content_title": "P"}
        for sources in digests:
            for source in sources.values():
                assert _render(flatten(source, language), context, "en") == _render(source, context, language)
    assert checked > 200


def test_a_flattened_german_text_reads_as_german():
    source = Channel.PUSH
    handler = next(cls for cls in BUILTIN_HANDLERS if "content.liked" in cls.event_types)
    flat = flatten(handler.default_templates[source]["title"], "de")
    assert flat == "Neues „Gefällt mir“"
    body = flatten(handler.default_templates[source]["body"], "de")
    assert "{% if (others) is plural_de(0) %}{{ liker }} und {{ others }} weitere Person haben" in body
