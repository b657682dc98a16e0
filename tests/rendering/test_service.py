"""A tenant template over its render budget, through the Renderer that intake and the worker use: it fails its
records with RenderBudgetExceeded at once after the first, until a new version is saved."""

from __future__ import annotations

import time

import pytest
from django.core import mail

from notifications.enums import Channel
from notifications.errors import RenderBudgetExceeded
from notifications.events.registry import event_registry
from notifications.models import NotificationTemplate
from notifications.rendering import engine
from notifications.rendering.context import build_context
from notifications.rendering.service import Renderer
from notifications.rendering.trial import sample_context
from notifications.tenants.models import Tenant
from notifications.testing import EXAMPLE_PAYLOADS, make_event
from tests.rendering.guide_template import GUIDE_TEMPLATE

pytestmark = pytest.mark.django_db

NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"


def test_a_stored_template_over_budget_costs_the_budget_once_per_version(tenant, monkeypatch):
    template = NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_in_app",
                                                   channel="in_app", content={"title": "t", "body": "b"})
    NotificationTemplate.objects.filter(pk=template.pk).update(content={"title": NESTED_LOOPS, "body": "b"})
    handler = event_registry.get_handler("task.assigned")
    context = sample_context(handler, "task.assigned", tenant)
    renders = []
    real = engine._render
    monkeypatch.setattr(engine, "_render", lambda *args: renders.append(1) or real(*args))

    renderer = Renderer([tenant.id])
    started = time.perf_counter()
    for _ in range(500):
        with pytest.raises(RenderBudgetExceeded, match=r"template task_assigned_in_app: render budget exceeded"):
            renderer.render(handler, "task.assigned", Channel.IN_APP, context, tenant.id)
    assert time.perf_counter() - started < 2.0  # one budget, then 499 refusals (each was a budget: minutes)
    assert len(renders) <= 2  # the combined pass; nothing after the first record

    template.refresh_from_db()
    template.content = {"title": "Fixed: {{ task_title }}", "body": "b"}
    template.save()  # version 2 is tried again
    fixed = Renderer([tenant.id]).render(handler, "task.assigned", Channel.IN_APP, context, tenant.id)
    assert fixed.fields["title"] == "Fixed: Review Q4 budget" and fixed.source.endswith("@v2")


@pytest.mark.parametrize("source", ["{{ 'x' * 1000000000 }}", "{{ 10 ** 100000 }}", "{{ 1 // 0 }}"])
def test_hostile_tenant_template_fails_only_its_record(tenant, source):
    template = NotificationTemplate.objects.create(
        tenant_id=tenant.id, name="content_liked_in_app", channel="in_app",
        content={"title": "fine", "body": "x"}, placeholders=[],
    )
    # Saving refuses a template over its render budget; one stored before that (or behind save()) still fails
    # only its own record.
    NotificationTemplate.objects.filter(pk=template.pk).update(content={"title": source, "body": "x"})

    result = event_registry.process_event(make_event("content.liked"))

    [in_app] = [r for r in result.records if r.channel == "in_app"]
    assert (in_app.status, in_app.reason) == ("failed", "render_error")


def test_template_updated_behind_save_is_not_served_stale(tenant, deliver):
    template = NotificationTemplate.objects.create(
        tenant_id=tenant.id, name="user_login_succeeded_email", channel="email",
        content={"subject": "First {{ company_name }}", "body": "b"},
    )
    event_registry.process_event(make_event("user.login.succeeded"))
    deliver()
    NotificationTemplate.objects.filter(pk=template.pk).update(content={"subject": "Second", "body": "b"})
    event_registry.process_event(make_event("user.login.succeeded", user_id="u-9"))
    deliver()

    assert [m.subject for m in mail.outbox] == ["First Acme", "Second"]


def test_guide_override_changes_the_next_email(tenant, deliver):
    NotificationTemplate.objects.create(tenant_id=tenant.id, **GUIDE_TEMPLATE)

    event_registry.process_event(make_event("user.registration.completed"))
    deliver()

    [email] = mail.outbox
    assert email.subject == "Welcome to Acme, John!"
    assert email.body == "Dear John,\n\nWelcome to Acme! Your account is now active.\n\nBest regards,\nAcme Team"
    assert email.extra_headers["X-Notification-Template"] == "template:user_registration_completed_email@v1"


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


def test_warm_up_compiles_every_default_template_before_the_first_render():
    from notifications.enums import Channel
    from notifications.events.registry import event_registry
    from notifications.rendering import engine
    from notifications.rendering.service import warm_up

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


# Templates per language: the recipient's fallback chain, then the built-in text in their language.


def _template(tenant_id: str, locale: str, title: str) -> NotificationTemplate:
    return NotificationTemplate.objects.create(tenant_id=tenant_id, name="task_assigned_push", channel="push",
                                               locale=locale, content={"title": title, "body": "{{ task_title }}"})


def _render_for(tenant, locale: str):
    handler = event_registry.get_handler("task.assigned")
    payload = {**EXAMPLE_PAYLOADS["task.assigned"], "locale": locale}
    context = sample_context(handler, "task.assigned", tenant, payload)
    return Renderer([tenant.id]).render(handler, "task.assigned", Channel.PUSH, context, tenant.id)


def test_de_at_falls_back_to_de_then_the_default_template_then_the_german_built_in(tenant):
    _template(tenant.id, "fr", "Nouvelle tâche")
    german, default = _template(tenant.id, "de", "Neue Aufgabe"), _template(tenant.id, "", "Task")
    at = _template(tenant.id, "de-AT", "Neue Aufgabe (AT)")
    assert _render_for(tenant, "de_AT").source == "template:task_assigned_push[de-AT]@v1"
    at.delete()
    rendered = _render_for(tenant, "de_AT")
    assert (rendered["title"], rendered.source) == ("Neue Aufgabe", "template:task_assigned_push[de]@v1")
    german.delete()
    assert _render_for(tenant, "de-AT").source == "template:task_assigned_push@v1"  # the "" template
    default.delete()
    rendered = _render_for(tenant, "de-AT")
    assert (rendered["title"], rendered.source) == ("Neue Aufgabe zugewiesen", "default[de]")


def test_the_tenants_default_locale_step_takes_its_template_and_the_default_one(tenant):
    tenant.settings = {**tenant.settings, "default_locale": "fr"}
    tenant.save()
    _template(tenant.id, "", "Tâche")
    french = _template(tenant.id, "fr", "Nouvelle tâche")
    # A Japanese reader: no ja template, then the tenant default's (fr) before its "" template.
    assert _render_for(tenant, "ja")["title"] == "Nouvelle tâche"
    french.delete()
    assert _render_for(tenant, "ja")["title"] == "Tâche"
    english = _template(tenant.id, "en", "New task")
    assert _render_for(tenant, "en-GB")["title"] == "New task"  # en comes before the tenant default
    english.delete()
    NotificationTemplate.objects.filter(tenant_id=tenant.id).delete()
    rendered = _render_for(tenant, "ja")
    assert (rendered["title"], rendered.source) == ("Nouvelle tâche attribuée", "default[fr]")


def test_english_reader_still_gets_the_tenants_template_without_a_locale(tenant):
    _template(tenant.id, "", "Task: {{ task_title }}")
    assert _render_for(tenant, "")["title"] == "Task: Review Q4 budget"
    assert _render_for(tenant, "de")["title"] == "Task: Review Q4 budget"  # before the German built-in


def test_one_query_per_batch_and_resolution_once_per_language(tenant, django_assert_num_queries):
    _template(tenant.id, "de", "Neue Aufgabe")
    handler = event_registry.get_handler("task.assigned")
    contexts = [sample_context(handler, "task.assigned", tenant, {**EXAMPLE_PAYLOADS["task.assigned"],
                                                                  "locale": locale})
                for locale in ("de", "de-AT", "fr", "de", "en")]
    with django_assert_num_queries(1):
        renderer = Renderer([tenant.id])
        titles = [renderer.render(handler, "task.assigned", Channel.PUSH, context, tenant.id)["title"]
                  for context in contexts]
    assert titles == ["Neue Aufgabe", "Neue Aufgabe", "Nouvelle tâche attribuée", "Neue Aufgabe",
                      "New task assigned"]
    assert len(renderer._resolved) == 4  # de, de-AT, fr, en: once each


def test_another_tenants_localized_template_is_never_used(tenant):
    _template("globex", "de", "Globex-Aufgabe")
    rendered = _render_for(tenant, "de")
    assert (rendered["title"], rendered.source) == ("Neue Aufgabe zugewiesen", "default[de]")
