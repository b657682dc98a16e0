"""The worker renders each claimed record on its own (notifications/delivery/compose.py): whatever rendering one
record raises fails that record with render_error, and the rest of the claimed batch is sent."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.models import NotificationRecord, NotificationTemplate
from notifications.testing import make_event
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
