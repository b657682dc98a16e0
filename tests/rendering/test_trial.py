"""Saving a template renders it once with its event type's sample payload under the budget."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from notifications.models import NotificationTemplate

pytestmark = pytest.mark.django_db

HOSTILE = "{% set ns = namespace(x='xx') %}{% for i in range(40) %}{% set ns.x = ns.x ~ ns.x %}{% endfor %}"


def test_saving_a_template_over_budget_is_refused_with_the_reason(tenant):
    with pytest.raises(ValidationError) as refused:
        NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_sms", channel="sms",
                                            content={"body": HOSTILE})

    [message] = refused.value.message_dict["content"]
    assert "render budget exceeded (size)" in message and "task.assigned sample data" in message
    assert not NotificationTemplate.objects.exists()


def test_a_template_failing_otherwise_with_the_sample_is_saved(tenant):
    # Real events may carry what the sample lacks: only the budget is judged on the sample.
    template = NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_sms", channel="sms",
                                                   content={"body": "{{ 1 // 0 }}"})
    assert template.pk is not None


def test_the_admin_form_refuses_a_template_over_budget(admin_client, tenant):
    template = NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_sms", channel="sms",
                                                   content={"body": "Task: {{ task_title }}"})
    url = reverse("admin:notifications_notificationtemplate_change", args=[template.pk])

    response = admin_client.post(url, {
        "tenant": tenant.id, "name": template.name, "channel": "sms", "content": f'{{"body": "{HOSTILE}"}}'
        .replace("'", "\\u0027"), "placeholders": "[]", "is_active": "on"})

    assert response.status_code == 200  # the form again, with the error; not a redirect
    assert "render budget exceeded (size)" in response.content.decode().replace("&#x27;", "'")
    template.refresh_from_db()
    assert (template.version, template.content) == (1, {"body": "Task: {{ task_title }}"})
