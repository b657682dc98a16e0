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


def test_check_setup_warns_of_a_handler_registered_only_in_this_process(tenant, capsys, settings):
    """The guide's "Mock Event Testing" from a Django shell: this process knows the handler, the worker and the
    consumer do not. A warning (exit 0), naming the types and saying how to configure it."""
    from notifications.checks import check_runtime_only_handlers
    from notifications.events.registry import event_registry
    from tests.handlers_for_tests import MockEventHandler

    call_command("seed_event_templates", "--tenant-id", tenant.id)
    shell_only = event_registry.register(MockEventHandler(), event_types=["test.event"])
    try:
        call_command("check_setup")
        out = capsys.readouterr().out
        [warning] = check_runtime_only_handlers(None)

        # Once it is listed in the setting, this process's handler is what every process will load.
        settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "HANDLERS": ["tests.handlers_for_tests:MockEventHandler"]}
        call_command("check_setup")
        configured_out = capsys.readouterr().out
    finally:
        event_registry.unregister_handler(shell_only)

    assert ("WARNING handler tests.handlers_for_tests:MockEventHandler for test.event is registered only in this "
            "process's memory") in out
    assert "the delivery worker and the consumer will not know it" in out
    assert 'NOTIFICATIONS["HANDLERS"] = ["tests.handlers_for_tests:MockEventHandler"]' in out
    assert "NOTIFICATIONS_HANDLERS" in out
    assert "all checks passed (1 warning(s))" in out
    assert warning.id == "notifications.W003" and "test.event" in warning.msg
    assert "WARNING" not in configured_out and "all checks passed\n" in configured_out
    assert ('OK      1 handler(s) from NOTIFICATIONS["HANDLERS"]: tests.handlers_for_tests:MockEventHandler '
            "(test.event)") in configured_out


def test_check_setup_does_not_warn_of_start_up_handlers(tenant, capsys):
    call_command("seed_event_templates", "--tenant-id", tenant.id)
    call_command("check_setup")
    assert "WARNING" not in capsys.readouterr().out


def test_check_setup_warns_of_a_tenant_type_a_handler_now_serves(tenant, capsys):
    """A deploy registered a handler of a name a tenant had defined: the handler wins, and the clash is named."""
    from notifications.events.base_handler import BaseEventHandler
    from notifications.events.registry import event_registry
    from notifications.tenant_types import service
    from tests.tenant_types.helpers import NAME, definition

    class OrderShipped(BaseEventHandler):
        event_types = (NAME,)

    body = definition()
    service.create(tenant.id, body.pop("name"), body)
    later = event_registry.register(OrderShipped())
    try:
        call_command("check_setup")
        event_registry.prepare({(tenant.id, NAME)})
        served = event_registry.get_handler(NAME, tenant.id)
    finally:
        event_registry.unregister_handler(later)

    out = capsys.readouterr().out
    assert (f"WARNING tenant acme's event type {NAME} is served by the handler OrderShipped, which wins") in out
    assert served is later
