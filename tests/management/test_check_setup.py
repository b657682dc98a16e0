from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from notifications.models import NotificationTemplate

pytestmark = pytest.mark.django_db


def test_check_setup_passes_on_a_sound_setup(tenant, capsys):
    call_command("seed_event_templates", "--tenant-id", tenant.id)
    call_command("check_setup")
    out = capsys.readouterr().out
    assert "OK      database reachable" in out and "30 active template(s) checked" in out
    assert "13 event types have a handler" in out and "all checks passed" in out


def test_check_setup_names_each_problem(tenant, capsys, settings):
    NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_push", channel="push",
                                        content={"title": "t", "body": "b"})
    NotificationTemplate.objects.filter(name="task_assigned_push").update(content={"title": "{{ nope }}", "body": "b"})
    from notifications.channels.models import ProviderConfig

    ProviderConfig.objects.create(tenant=tenant, channel="sms", provider="twilio", options={})
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                              "KAFKA_CLIENT_CONFIG": {"socket.connection.setup.timeout.ms": 1000}}

    with pytest.raises(CommandError, match="3 problem"):
        call_command("check_setup")
    out = capsys.readouterr().out
    assert "PROBLEM Kafka at 127.0.0.1:1 unreachable" in out
    assert "PROBLEM template acme/task_assigned_push: unknown placeholder(s) for task.assigned: nope" in out
    assert "PROBLEM provider" in out and "missing account_sid, auth_token" in out
