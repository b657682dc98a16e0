"""The templates endpoints: create, validate, update, preview (saved and draft), deactivate, test-send."""

from __future__ import annotations

import pytest

from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_templates_crud_preview_and_validation(api_a):
    created = api_a.post("/templates", {
        "name": "task_assigned_email", "channel": "email",
        "content": {"subject": "Task {{ task_title }}", "body": "From {{ assigned_by }}"},
        "placeholders": ["task_title", "assigned_by"]})
    assert created.status_code == 201, created.content
    template_id = created.json()["id"]

    bad = api_a.post("/templates", {"name": "task_assigned_sms", "channel": "sms",
                                    "content": {"body": "{{ shoe_size }}"}})
    assert bad.status_code == 422 and "unknown placeholder(s) for task.assigned: shoe_size" in bad.json()["detail"]

    updated = api_a.patch(f"/templates/{template_id}", {"content": {"subject": "New {{ task_title }}", "body": "b"}})
    assert updated.json()["version"] == 2
    preview = api_a.post("/templates/preview", {"event_type": "task.assigned", "channel": "email"})
    assert preview.json()["fields"]["subject"] == "New Review Q4 budget"
    draft = api_a.post("/templates/preview", {"event_type": "invoice.payment.failed", "channel": "sms",
                                              "content": {"body": "Owed {{ amount_formatted }}"},
                                              "payload": make_event("invoice.payment.failed", amount=5)["payload"]})
    assert draft.json() == {"fields": {"body": "Owed $5.00"}, "source": "draft"}
    assert api_a.post(f"/templates/{template_id}/deactivate").json()["is_active"] is False
    assert [t["name"] for t in api_a.get("/templates?active=false").json()] == ["task_assigned_email"]


def test_template_test_send_uses_the_tenants_provider(api_a, settings):
    from django.core import mail

    created = api_a.post("/templates", {"name": "user_login_succeeded_email", "channel": "email",
                                        "content": {"subject": "Hello {{ company_name }}", "body": "x"}})
    result = api_a.post(f"/templates/{created.json()['id']}/test", {"to": "qa@acme.example.com"})

    assert result.json()["ok"] is True and result.json()["provider"] == "django"
    assert mail.outbox[-1].to == ["qa@acme.example.com"] and mail.outbox[-1].subject == "Hello Acme"
