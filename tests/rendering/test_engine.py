"""The template engine: compiled once and cached (a saved template invalidates its entry, drafts are never
kept), payload values are data, HTML is autoescaped, a channel's fields render together in one pass."""

from __future__ import annotations

import pytest
from django.core import mail
from hypothesis import example, given, settings
from hypothesis import strategies as st

from notifications.events.registry import event_registry
from notifications.models import NotificationTemplate
from notifications.rendering import engine
from notifications.rendering.context import build_context
from notifications.tenants.models import Tenant
from notifications.testing import EXAMPLE_PAYLOADS, make_event
from tests.rendering.guide_template import GUIDE_TEMPLATE

pytestmark = pytest.mark.django_db


def test_saving_a_template_invalidates_the_compiled_cache(tenant, deliver):
    template = NotificationTemplate.objects.create(tenant_id=tenant.id, **GUIDE_TEMPLATE)
    event_registry.process_event(make_event("user.registration.completed"))
    deliver()
    compiled_before = len(engine.cache)

    template.content = {**template.content, "subject": "Hello again {{ first_name }}"}
    template.save()
    event_registry.process_event(make_event("user.registration.completed", user_id="u-2"))
    deliver()

    assert template.version == 2
    assert [m.subject for m in mail.outbox] == ["Welcome to Acme, John!", "Hello again John"]
    assert len(engine.cache) <= compiled_before + 1


def test_templates_are_compiled_once(tenant, deliver, monkeypatch):
    NotificationTemplate.objects.create(tenant_id=tenant.id, **GUIDE_TEMPLATE)
    compiled = []
    original = engine.TEXT_ENV.from_string
    monkeypatch.setattr(engine.TEXT_ENV, "from_string", lambda source: compiled.append(source) or original(source))

    for n in range(5):
        event_registry.process_event(make_event("user.registration.completed", user_id=f"u-{n}"))
    deliver()

    assert len(mail.outbox) == 5
    assert len(compiled) <= 2  # subject and body of the tenant template, once each


def test_payload_values_are_data_not_template_source(tenant, deliver):
    sneaky = "{{ 7*7 }}{% raw %}"
    event_registry.process_event(
        make_event("user.registration.completed", temp_password=sneaky, first_name="{{ 6*7 }}"))
    deliver()

    body = mail.outbox[0].body
    assert f"Temporary password: {sneaky}" in body
    assert "49" not in body and "42" not in body


def test_html_part_is_autoescaped(tenant, deliver):
    NotificationTemplate.objects.create(
        tenant_id=tenant.id,
        **{**GUIDE_TEMPLATE, "content": {**GUIDE_TEMPLATE["content"], "html": "<p>Hi {{ first_name }}</p>"}},
    )
    event_registry.process_event(make_event("user.registration.completed", first_name="<script>x</script>"))
    deliver()

    email = mail.outbox[0]
    html = email.alternatives[0][0]
    assert html == "<p>Hi &lt;script&gt;x&lt;/script&gt;</p>"
    assert "<script>x</script>" in email.subject  # plain text stays plain


def test_default_html_alternative_escapes_payload(tenant, deliver):
    event_registry.process_event(make_event("task.assigned", task_title="<b>bold</b> & co"))
    deliver()

    html = mail.outbox[0].alternatives[0][0]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "<b>bold</b>" not in html


# --- the text fields of a channel are rendered in one pass -----------------------------------------------------
def test_fields_rendered_together_keep_their_own_scope():
    sources = {"title": "{% set who = 'A' %}{{ who }}", "body": "[{{ who }}] {{ name }}", "action_url": "/x"}

    out = engine.render_sources(("test", "scope"), sources, {"name": "N"}, label="t")

    assert out == {"title": "A", "body": "[] N", "action_url": "/x"}


def test_a_failing_field_is_named_when_fields_render_together():
    from notifications.errors import TemplateRenderError

    with pytest.raises(TemplateRenderError, match="field 'body'"):
        engine.render_sources(("test", "err"), {"title": "ok", "body": "{{ 1 // zero }}"}, {"zero": 0}, label="t")
    with pytest.raises(TemplateRenderError, match="field 'subject'"):
        engine.render_sources(("test", "syntax"), {"subject": "{% if %}", "body": "fine"}, {}, label="t")


@pytest.mark.parametrize("event_type", sorted(EXAMPLE_PAYLOADS))
def test_rendering_together_gives_what_rendering_alone_gives(event_type):
    handler = event_registry.get_handler(event_type)
    payload = handler.load_payload(handler.validate_payload(event_type, EXAMPLE_PAYLOADS[event_type]))
    context = build_context(handler, event_type=event_type, payload=payload, tenant=Tenant(id="acme", name="Acme"),
                            contact={"email": "john@example.com"}, event_id="e-1", user_id="u-1")
    compared = 0
    for channel, sources in handler.default_templates.items():
        alone = {field: engine._tidy(field, engine.env_for(field).from_string(source).render(context))
                 for field, source in sources.items()}
        together = engine.render_sources(("test", event_type, channel), sources, context, label="t")
        assert together == alone
        compared += len(sources) > 1
    assert compared or not handler.default_templates  # each type with content has a channel of several fields


def test_a_block_tag_indented_on_the_first_line_renders_as_it_does_alone():
    sources = {"title": "  {% if name %}Hi {{ name }}{% endif %}",
               "body": "    {% if name %}Hello{% endif %}\n    there"}
    context = {"name": "N"}

    together = engine.render_sources(("test", "first-line"), sources, context, label="t")

    alone = {field: engine._tidy(field, engine.env_for(field).from_string(source).render(context))
             for field, source in sources.items()}
    assert together == alone == {"title": "Hi N", "body": "Hello    there"}


def test_drafts_are_not_kept_in_the_compiled_cache():
    before = len(engine.cache)

    first = engine.render_sources(None, {"subject": "A {{ x }}", "body": "B"}, {"x": 1}, label="preview")
    second = engine.render_sources(None, {"subject": "C {{ x }}", "body": "D"}, {"x": 2}, label="preview")

    assert (first, second) == ({"subject": "A 1", "body": "B"}, {"subject": "C 2", "body": "D"})
    assert len(engine.cache) == before


def test_default_key_is_never_shared_by_two_source_sets():
    from notifications.enums import Channel
    from notifications.rendering import engine

    class Probe:
        pass

    first = {"title": "A {{ x }}", "body": "B"}
    key, _ = engine.default_key(Probe, Channel.PUSH, first)
    assert engine.default_key(Probe, Channel.PUSH, first)[0] == key
    # The entry keeps the mapping alive, so its id cannot be reused by another while the key exists.
    assert any(entry[2] is first for entry in engine._DEFAULT_KEYS.values())
    second = {"subject": "S", "title": "T {{ x }}", "body": "U"}
    assert engine.default_key(Probe, Channel.PUSH, second)[0] != key
    assert engine.render_default(Probe, Channel.PUSH, second, {"x": 1}) == {"subject": "S", "title": "T 1",
                                                                             "body": "U"}


def _tidy_by_dedent(field: str, text: str) -> str:
    """_tidy as it was before its fast paths: textwrap.dedent always, the blank-line regex always."""
    import re
    import textwrap

    if "\n" not in text:
        return " ".join(text.split()) if field in engine.SINGLE_LINE_FIELDS else text.strip()
    if field in engine.SINGLE_LINE_FIELDS:
        return " ".join(text.split())
    if field in engine.HTML_FIELDS:
        return text.strip()
    lines = textwrap.dedent(text).strip("\n").splitlines()
    cleaned = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", cleaned).strip()


@settings(max_examples=400)
@example("body", ["\n", "\ty", "\n", "\ty"])
@example("body", ["\n", "  x", "\n", "\n", "\n", "  x"])
@given(st.sampled_from(["body", "subject", "html", "title"]),
       st.lists(st.sampled_from(["\n", " ", "\t", "  x", "\ty", "z ", "\r", "\x0b", "é", "a\n\n\n"]), max_size=12))
def test_tidy_is_what_dedenting_always_made(field, parts):
    text = "".join(parts)
    assert engine._tidy(field, text) == _tidy_by_dedent(field, text)
