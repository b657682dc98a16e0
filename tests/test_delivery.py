"""The delivery seam at this stage: worker, outcomes, retries with backoff, the --once command."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command

from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_run_delivery_worker_once_delivers_everything_due(tenant, capsys):
    for n in range(3):
        event_registry.process_event(make_event("user.login.failed", user_id=f"user-{n}"))

    call_command("run_delivery_worker", "--once")

    assert "sent=6" in capsys.readouterr().out  # e-mail and SMS; these users have no push device
    assert NotificationRecord.objects.filter(channel="push", reason="no_address").count() == 3
    assert set(NotificationRecord.objects.exclude(channel="push").values_list("status", flat=True)) == {Status.SENT}


def test_email_file_backend_writes_into_the_mail_folder(tenant, deliver, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    event_registry.process_event(make_event("user.login.succeeded"))

    deliver()

    [message] = list(Path(settings.EMAIL_FILE_PATH).iterdir())
    text = message.read_text()
    assert "To: john@example.com" in text and "Berlin, DE" in text


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

