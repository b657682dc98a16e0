"""seed_event_templates: idempotent, used by delivery, --overwrite restores edited templates."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from notifications.channels.models import InAppMessage
from notifications.events.registry import event_registry
from notifications.models import NotificationTemplate
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_seed_event_templates_is_idempotent_and_used(tenant, deliver, capsys):
    call_command("seed_event_templates", "--tenant-id", tenant.id)
    first = NotificationTemplate.objects.filter(tenant_id=tenant.id).count()
    call_command("seed_event_templates", "--tenant-id", tenant.id)

    assert first == NotificationTemplate.objects.count() == 30  # every built-in type's defaults
    assert "created 0, updated 0, unchanged 30" in capsys.readouterr().out

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
    # The default text as it is, `{% trans %}` blocks included: the seeded template reads in each recipient's language.
    assert restored.content["title"] == "{% trans %}New task assigned{% endtrans %}" and restored.is_active


def test_seeding_a_locale_writes_its_language_out_and_leaves_the_others(tenant, deliver, capsys):
    call_command("seed_event_templates", "--tenant-id", tenant.id)
    call_command("seed_event_templates", "--tenant-id", tenant.id, "--locale", "de_at")
    assert "Templates for tenant acme [de_at]: created 30" in capsys.readouterr().out
    german = NotificationTemplate.objects.get(name="task_assigned_push", locale="de-AT")
    assert german.content["title"] == "Neue Aufgabe zugewiesen" and "trans" not in str(german.content)
    german.content = {**german.content, "title": "Neue Aufgabe!"}
    german.save()
    call_command("seed_event_templates", "--tenant-id", tenant.id, "--overwrite")  # the "" ones only
    assert NotificationTemplate.objects.get(name="task_assigned_push", locale="de-AT").content["title"] == (
        "Neue Aufgabe!")

    event_registry.process_event(make_event("user.login.failed", locale="de-AT", attempt_count=1))
    deliver()
    [sent] = [m for m in mail.outbox if "Anmeldeversuch" in m.body]
    assert sent.extra_headers["X-Notification-Template"] == "template:user_login_failed_email[de-AT]@v1"
    assert "1 fehlgeschlagenen Anmeldeversuch" in sent.body


def test_seeding_an_unknown_locale_is_refused():
    with pytest.raises(CommandError, match="invalid --locale 'xx-nowhere': unknown locale"):
        call_command("seed_event_templates", "--tenant-id", "acme", "--locale", "xx-nowhere")
    assert not NotificationTemplate.objects.exists()
