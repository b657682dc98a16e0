"""The worker renders each claimed record on its own (notifications/delivery/compose.py): whatever rendering one
record raises fails that record with render_error, and the rest of the claimed batch is sent."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.management import call_command

from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.models import NotificationRecord, NotificationTemplate
from notifications.testing import make_event
from tests.handlers_for_tests import MockEventHandler
from tests.intake.hostile import SECRET_IN_ERROR, good_event, hostile_event, hostile_handler

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("error", ["memory", "recursion", "runtime"])
def test_one_unrenderable_record_fails_alone_and_the_batch_is_sent(tenant, deliver, error):
    with hostile_handler():
        [bad, *good] = process_events([hostile_event(f"email-{error}", user_id="u-1"),
                                       *(good_event(n, user_id=f"u-{n}") for n in range(2, 6))])
        report = deliver()

    bad_email = NotificationRecord.objects.get(event_id=bad.event_id, channel="email")
    assert (bad_email.status, bad_email.reason) == ("failed", "render_error")
    expected = {"memory": "MemoryError", "recursion": "RecursionError", "runtime": "RuntimeError"}[error]
    assert bad_email.error_detail == f"{expected}: cannot build the message"
    assert SECRET_IN_ERROR not in bad_email.error_detail
    # Its push went out, and so did every other event's e-mail in the same claimed batch.
    assert NotificationRecord.objects.get(event_id=bad.event_id, channel="push").status == "sent"
    assert sorted(m.to[0] for m in mail.outbox) == ["john@example.com"] * 4
    assert set(NotificationRecord.objects.filter(event_id__in=[r.event_id for r in good], channel="email")
               .values_list("status", flat=True)) == {"sent"}
    assert report.claimed >= 5


def test_a_tenant_email_template_that_recurses_fails_only_that_tenants_records(tenant, deliver):
    NotificationTemplate.objects.bulk_create([NotificationTemplate(  # stored directly: no save-time checks
        tenant_id=tenant.id, name="task_assigned_email", channel="email", placeholders=[],
        content={"subject": "s", "body": "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}"},
    )])
    process_events([good_event(1), good_event(2, tenant_id="globex")])

    deliver()

    emails = dict(NotificationRecord.objects.filter(channel="email").values_list("tenant_id", "reason"))
    assert emails == {"acme": "render_error", "globex": ""}
    assert len(mail.outbox) == 1


def test_a_database_error_while_rendering_is_not_the_records_fault(tenant, monkeypatch):
    """The database going away mid-batch must not fail records for good: the batch is retried."""
    from django.db.utils import OperationalError

    from notifications.delivery import engine

    process_events([good_event(1)])

    def away(*args: object) -> None:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(engine, "message_for", away)
    with pytest.raises(OperationalError):
        engine.deliver_due()

    assert not NotificationRecord.objects.filter(status="failed").exists()


def test_unregistered_handler_at_delivery_fails_the_record_not_the_batch(tenant, deliver):
    from notifications.events.base_handler import BaseEventHandler

    class Temporary(BaseEventHandler):
        event_types = ("temp.event",)

        def _get_email_content(self, event_type, context):
            return {"subject": "s", "body": "b"}

    handler = event_registry.register(Temporary())
    event_registry.process_event({**make_event("user.login.succeeded"), "event_type": "temp.event"})
    event_registry.unregister_handler(handler)
    event_registry.process_event(make_event("user.login.succeeded"))

    deliver()

    statuses = dict(NotificationRecord.objects.values_list("event_type", "status"))
    assert statuses == {"temp.event": Status.FAILED, "user.login.succeeded": Status.SENT}


def test_a_record_whose_handler_this_worker_lacks_fails_at_once_saying_how_to_register_it(tenant, deliver):
    """A handler registered in another process only (a Django shell): the worker fails the record for good with
    no_handler and the way to configure it, not render_error, and without the payload's values."""
    shell_only = event_registry.register(MockEventHandler())
    try:
        result = event_registry.process_event({"event_type": "test.event", "tenant_id": tenant.id,
                                               "timestamp": "2026-11-23T10:00:00",
                                               "payload": {"user_id": "u-9", "email": "mock@example.com",
                                                           "password": "hunter2"}})
    finally:
        event_registry.unregister_handler(shell_only)  # the worker's process does not have it

    first = deliver()
    again = deliver()

    record = NotificationRecord.objects.get(event_id=result.event_id)
    assert (record.status, record.reason, record.next_attempt_at) == ("failed", "no_handler", None)
    assert record.error_detail.startswith("no handler for event type 'test.event' in the delivery worker")
    assert 'NOTIFICATIONS["HANDLERS"] = ["module:Class"]' in record.error_detail
    assert "retry_failed --reason no_handler" in record.error_detail
    assert "mock@example.com" not in record.error_detail and "hunter2" not in record.error_detail
    assert (first.claimed, again.claimed) == (1, 0)  # failed once, not retried
    assert mail.outbox == []

    # Once this process has the handler, retry_failed sends the record.
    configured = event_registry.register(MockEventHandler())
    try:
        call_command("retry_failed", "--reason", "no_handler")
        deliver()
    finally:
        event_registry.unregister_handler(configured)
    assert NotificationRecord.objects.get(event_id=result.event_id).status == "sent"
    assert [m.to for m in mail.outbox] == [["mock@example.com"]]
