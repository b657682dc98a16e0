"""Tenant templates: the guide's override, validation, caching, sandboxing, seeding."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command

from notifications.channels.models import InAppMessage
from notifications.events.registry import event_registry
from notifications.models import NotificationTemplate
from notifications.rendering import engine
from notifications.rendering.context import build_context
from notifications.tenants.models import Tenant
from notifications.testing import EXAMPLE_PAYLOADS, make_event

pytestmark = pytest.mark.django_db

GUIDE_TEMPLATE = dict(
    name="user_registration_completed_email",
    channel="email",
    content={
        "subject": "Welcome to {{company_name}}, {{first_name}}!",
        "body": """
        Dear {{first_name}},

        Welcome to {{company_name}}! Your account is now active.

        Best regards,
        {{company_name}} Team
        """,
    },
    placeholders=["first_name", "company_name"],
    is_active=True,
)


def test_guide_override_changes_the_next_email(tenant, deliver):
    NotificationTemplate.objects.create(tenant_id=tenant.id, **GUIDE_TEMPLATE)

    event_registry.process_event(make_event("user.registration.completed"))
    deliver()

    [email] = mail.outbox
    assert email.subject == "Welcome to Acme, John!"
    assert email.body == "Dear John,\n\nWelcome to Acme! Your account is now active.\n\nBest regards,\nAcme Team"
    assert email.extra_headers["X-Notification-Template"] == "template:user_registration_completed_email@v1"


def test_template_for_a_tenant_never_seen_creates_it_with_defaults(db):
    template = NotificationTemplate.objects.create(tenant_id="brand-new", **GUIDE_TEMPLATE)
    assert template.tenant.name == "brand-new"


def test_inactive_template_falls_back_to_default(tenant, deliver):
    NotificationTemplate.objects.create(tenant_id=tenant.id, **{**GUIDE_TEMPLATE, "is_active": False})

    event_registry.process_event(make_event("user.registration.completed"))
    deliver()

    assert "Username: johndoe" in mail.outbox[0].body


def test_other_tenants_template_is_not_used(tenant, deliver):
    NotificationTemplate.objects.create(tenant_id="other", **GUIDE_TEMPLATE)

    event_registry.process_event(make_event("user.registration.completed"))
    deliver()

    assert "Your account is now active" not in mail.outbox[0].body


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"placeholders": ["first_name", "favourite_colour"]}, "unknown placeholder(s) for "
         "user.registration.completed: favourite_colour"),
        ({"content": {"subject": "Hi {{ shoe_size }}", "body": "{{ nickname }}"}},
         "unknown placeholder(s) for user.registration.completed: nickname, shoe_size"),
        ({"content": {"subject": "Hi {{ first_name", "body": "x"}}, "syntax error"),
        ({"content": {"body": "no subject"}}, "need field(s): subject"),
        ({"name": "order_shipped_email"}, "no registered event type has a template named 'order_shipped_email'"),
        ({"channel": "fax"}, "unknown channel"),
        ({"channel": "sms"}, "is not for channel 'sms'"),
    ],
)
def test_invalid_template_is_refused_with_a_clear_error(tenant, changes, message):
    with pytest.raises(ValidationError) as err:
        NotificationTemplate.objects.create(tenant_id=tenant.id, **{**GUIDE_TEMPLATE, **changes})

    assert message in str(err.value)
    assert NotificationTemplate.objects.count() == 0


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
    event_registry.process_event(make_event("user.registration.completed", temp_password=sneaky, first_name="{{ 6*7 }}"))
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
    assert "<p>Hi &lt;script&gt;x&lt;/script&gt;</p>" == html
    assert "<script>x</script>" in email.subject  # plain text stays plain


def test_default_html_alternative_escapes_payload(tenant, deliver):
    event_registry.process_event(make_event("task.assigned", task_title="<b>bold</b> & co"))
    deliver()

    html = mail.outbox[0].alternatives[0][0]
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html
    assert "<b>bold</b>" not in html


def test_sandbox_blocks_unsafe_template_code(tenant, deliver):
    NotificationTemplate.objects.create(
        tenant_id=tenant.id,
        name="content_liked_in_app",
        channel="in_app",
        content={"title": "{{ liked_by.__class__.__mro__ }}", "body": "x"},
        placeholders=["liked_by"],
    )
    result = event_registry.process_event(make_event("content.liked"))

    [in_app] = [r for r in result.records if r.channel == "in_app"]
    assert in_app.status == "failed" and in_app.reason == "render_error"
    assert InAppMessage.objects.count() == 0


def test_seed_event_templates_is_idempotent_and_used(tenant, deliver, capsys):
    call_command("seed_event_templates", "--tenant-id", tenant.id)
    first = NotificationTemplate.objects.filter(tenant_id=tenant.id).count()
    call_command("seed_event_templates", "--tenant-id", tenant.id)

    assert first == NotificationTemplate.objects.count() == 28
    assert "created 0, updated 0, unchanged 28" in capsys.readouterr().out

    event_registry.process_event(make_event("user.registration.completed"))
    deliver()
    assert mail.outbox[0].extra_headers["X-Notification-Template"].startswith(
        "template:user_registration_completed_email@v"
    )
    assert "Username: johndoe" in mail.outbox[0].body
    assert InAppMessage.objects.get().data["template"].startswith("template:user_registration_completed_in_app")


def test_seed_overwrite_restores_edited_templates(tenant):
    call_command("seed_event_templates", "--tenant-id", tenant.id)
    edited = NotificationTemplate.objects.get(name="task_assigned_push")
    edited.content = {"title": "changed", "body": "changed"}
    edited.is_active = False
    edited.save()

    call_command("seed_event_templates", "--tenant-id", tenant.id)
    assert NotificationTemplate.objects.get(name="task_assigned_push").content["title"] == "changed"
    call_command("seed_event_templates", "--tenant-id", tenant.id, "--overwrite")
    restored = NotificationTemplate.objects.get(name="task_assigned_push")
    assert restored.content["title"] == "New task assigned" and restored.is_active


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
    assert compared  # each event type has a channel with several fields


def test_a_block_tag_indented_on_the_first_line_renders_as_it_does_alone():
    sources = {"title": "  {% if name %}Hi {{ name }}{% endif %}", "body": "    {% if name %}Hello{% endif %}\n    there"}
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


def test_warm_up_compiles_every_default_template_before_the_first_render():
    from notifications.enums import Channel
    from notifications.events.registry import event_registry
    from notifications.rendering import engine
    from notifications.rendering.service import warm_up
    from notifications.testing import EXAMPLE_PAYLOADS

    engine.cache.invalidate(lambda key: isinstance(key, tuple) and key[:1] == ("default",))
    assert not any(isinstance(key, tuple) and key[:1] == ("default",) for key, _ in engine.cache._compiled)
    sets = sum(len(handler.default_templates) for handler in event_registry.handlers())
    assert warm_up() == sets > 0
    compiled = len(engine.cache)
    # Rendering every default now compiles nothing more: warm-up compiled what rendering uses.
    rendered = 0
    for event_type, payload in EXAMPLE_PAYLOADS.items():
        handler = event_registry.get_handler(event_type)
        typed = handler.load_payload(handler.parse_payload(event_type, dict(payload))[0])
        for channel in handler.default_templates:
            context = build_context(handler, event_type=event_type, payload=typed,
                                    tenant=Tenant(id="acme", name="Acme"), contact={})
            assert handler.get_content(Channel(channel), event_type, context)
            rendered += 1
    assert rendered >= sets
    assert len(engine.cache) == compiled


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
