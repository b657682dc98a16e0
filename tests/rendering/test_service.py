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
from notifications.rendering.service import Renderer
from notifications.rendering.trial import sample_context
from notifications.testing import make_event

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
