"""Saving or previewing a template over its render budget answers 422 with the reason; any render error of a
preview is a 422, not a 500."""

from __future__ import annotations

from notifications.models import NotificationTemplate

NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
PADDING = "{{ task_title|center(99999999) }}"


def test_saving_a_template_over_budget_answers_422_with_the_reason(api_a):
    created = api_a.post("/templates", {"name": "task_assigned_in_app", "channel": "in_app",
                                        "content": {"title": NESTED_LOOPS, "body": "b"}})

    assert created.status_code == 422
    detail = created.json()["detail"]
    assert "render budget exceeded (steps)" in detail and "task.assigned sample data" in detail
    assert not NotificationTemplate.objects.exists()


def test_updating_a_template_over_budget_answers_422_and_keeps_the_version(api_a):
    created = api_a.post("/templates", {"name": "task_assigned_in_app", "channel": "in_app",
                                        "content": {"title": "New: {{ task_title }}", "body": "b"}})
    template_id = created.json()["id"]

    updated = api_a.patch(f"/templates/{template_id}", {"content": {"title": PADDING, "body": "b"}})

    assert updated.status_code == 422 and "render budget exceeded (size)" in updated.json()["detail"]
    stored = NotificationTemplate.objects.get(pk=template_id)
    assert (stored.version, stored.content["title"]) == (1, "New: {{ task_title }}")


def test_previewing_a_draft_over_budget_answers_422_with_the_reason(api_a):
    preview = api_a.post("/templates/preview", {"event_type": "task.assigned", "channel": "push",
                                                "content": {"title": PADDING, "body": "b"}})

    assert preview.status_code == 422 and "render budget exceeded (size)" in preview.json()["detail"]


def test_previewing_a_draft_that_fails_with_the_given_payload_answers_422(api_a):
    preview = api_a.post("/templates/preview", {
        "event_type": "task.assigned", "channel": "push", "content": {"title": "{{ 1 // 0 }}", "body": "b"}})

    assert preview.status_code == 422
    assert preview.json()["detail"].startswith("cannot render preview field 'title': ZeroDivisionError")


def test_previewing_a_stored_template_over_budget_answers_422(api_a):
    created = api_a.post("/templates", {"name": "task_assigned_push", "channel": "push",
                                        "content": {"title": "t", "body": "b"}})
    # Stored behind save() (or before the budget existed).
    NotificationTemplate.objects.filter(pk=created.json()["id"]).update(content={"title": NESTED_LOOPS, "body": "b"})

    preview = api_a.post("/templates/preview", {"event_type": "task.assigned", "channel": "push"})

    assert preview.status_code == 422 and "render budget exceeded (steps)" in preview.json()["detail"]
