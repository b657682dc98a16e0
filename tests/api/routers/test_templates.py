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


# Templates per language


def _fields_of(answer):
    detail = answer.json()["detail"]
    return detail if isinstance(detail, str) else [(error["loc"][-1], error["msg"]) for error in detail]


def test_a_template_per_locale_stored_canonical_and_listed(api_a):
    body = {"name": "task_assigned_push", "channel": "push", "content": {"title": "Neue Aufgabe", "body": "b"}}
    german = api_a.post("/templates", {**body, "locale": "de_at"})
    assert german.status_code == 201 and german.json()["locale"] == "de-AT"
    assert api_a.post("/templates", body).json()["locale"] == ""
    again = api_a.post("/templates", {**body, "locale": "DE-at"})
    assert again.status_code == 409 and "for locale 'de-AT'" in again.json()["detail"]
    assert [t["locale"] for t in api_a.get("/templates?locale=de-AT").json()] == ["de-AT"]
    assert [t["locale"] for t in api_a.get("/templates").json()] == ["", "de-AT"]
    assert api_a.patch(f"/templates/{german.json()['id']}", {"content": {"title": "x", "body": "y"}}).json()[
        "version"] == 2


@pytest.mark.parametrize("path", ["/templates", "/templates/preview"])
def test_an_unknown_locale_answers_422_naming_it(api_a, path):
    answer = api_a.post(path, {"name": "task_assigned_push", "event_type": "task.assigned", "channel": "push",
                               "content": {"title": "t", "body": "b"}, "locale": "xx-nowhere"})
    assert answer.status_code == 422
    assert any(field == "locale" and "unknown locale 'xx-nowhere'" in message
               for field, message in _fields_of(answer))
    listed = api_a.get("/templates?locale=xx-nowhere")
    assert listed.status_code == 422 and "unknown locale" in listed.json()["detail"]


def test_preview_with_a_locale_resolves_and_renders_for_it(api_a):
    api_a.post("/templates", {"name": "task_assigned_push", "channel": "push", "locale": "de",
                              "content": {"title": "Neu: {{ task_title }}", "body": "Fällig {{ due_date_text }}"}})
    austrian = api_a.post("/templates/preview", {"event_type": "task.assigned", "channel": "push", "locale": "de-AT"})
    assert austrian.json() == {"fields": {"title": "Neu: Review Q4 budget", "body": "Fällig 25. November 2026, "
                                          "12:00 UTC"}, "source": "template:task_assigned_push[de]@v1"}
    french = api_a.post("/templates/preview", {"event_type": "task.assigned", "channel": "push", "locale": "fr"})
    assert french.json()["source"] == "default[fr]" and french.json()["fields"]["title"] == "Nouvelle tâche attribuée"
    draft = api_a.post("/templates/preview", {"event_type": "invoice.payment.failed", "channel": "sms", "locale": "es",
                                              "content": {"body": "{% trans %}Payment failed{% endtrans %}: "
                                                                  "{{ amount_formatted }}"}})
    assert draft.json() == {"fields": {"body": "Pago fallido: 1.234,50\xa0US$"}, "source": "draft"}


def test_test_send_in_the_templates_locale_or_the_one_asked_for(api_a):
    from django.core import mail

    created = api_a.post("/templates", {"name": "user_login_succeeded_email", "channel": "email", "locale": "fr",
                                        "content": {"subject": "{% trans %}New sign-in to your {{ company_name }} "
                                                               "account{% endtrans %}", "body": "x"}})
    template_id = created.json()["id"]
    assert api_a.post(f"/templates/{template_id}/test", {"to": "qa@acme.example.com"}).json()["ok"] is True
    assert mail.outbox[-1].subject == "Nouvelle connexion à votre compte Acme"
    api_a.post(f"/templates/{template_id}/test", {"to": "qa@acme.example.com", "locale": "de"})
    assert mail.outbox[-1].subject == "Neue Anmeldung bei Ihrem Acme-Konto"
    bad = api_a.post(f"/templates/{template_id}/test", {"to": "qa@acme.example.com", "locale": "nope-nope"})
    assert bad.status_code == 422


def test_a_tenant_cannot_see_or_preview_another_tenants_localized_template(api_a, api_b):
    created = api_a.post("/templates", {"name": "task_assigned_push", "channel": "push", "locale": "de",
                                        "content": {"title": "Acme intern", "body": "b"}}).json()
    assert api_b.get(f"/templates/{created['id']}").status_code == 404
    assert api_b.get("/templates?locale=de").json() == []
    assert api_b.patch(f"/templates/{created['id']}", {"is_active": False}).status_code == 404
    assert api_b.post(f"/templates/{created['id']}/test", {"to": "qa@globex.example.com"}).status_code == 404
    preview = api_b.post("/templates/preview", {"event_type": "task.assigned", "channel": "push", "locale": "de"})
    assert preview.json()["source"] == "default[de]" and "Acme" not in preview.json()["fields"]["title"]
