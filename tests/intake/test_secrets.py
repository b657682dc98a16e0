from __future__ import annotations

import json
import logging

import pytest
from django.db import connection

from notifications.channels.base import Failed, FailureKind
from notifications.channels.models import InAppMessage
from notifications.enums import Channel
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.security import decrypt_text
from notifications.testing import InMemorySender, make_event, use_sender

pytestmark = pytest.mark.django_db


def test_secrets_are_purged_at_intake_when_nothing_is_left_to_send(tenant):
    event_registry.process_event(make_event("auth.2fa.code.requested", method="in_app"))

    assert Event.objects.get().payload["code"] == {"$purged": True}
    assert "839201" in InAppMessage.objects.get().body  # delivered before the purge


SECRETS = {
    "temp_password": "Tmp-Pa55-word-7731",
    "reset_token": "reset-token-5b1c9e0a",
    "code": "472913",
}


def _secret_events() -> list[dict]:
    return [
        make_event("user.registration.completed", temp_password=SECRETS["temp_password"]),
        make_event("user.password.reset.requested", reset_token=SECRETS["reset_token"]),
        make_event("auth.2fa.code.requested", code=SECRETS["code"], method="sms"),
        make_event("auth.2fa.code.requested", code=SECRETS["code"], method="in_app", user_id="u-2"),
    ]


def test_no_secret_in_logs_through_intake_delivery_failure_and_rejection(tenant, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    bad = make_event("user.registration.completed", temp_password=SECRETS["temp_password"], email="broken")
    unknown = make_event("auth.2fa.code.requested", code=SECRETS["code"]) | {"event_type": "auth.2fa.nope"}

    process_events([*_secret_events(), bad, unknown, "{" + json.dumps(SECRETS)])
    process_events(_secret_events())  # duplicates
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.TRANSIENT, "boom", "provider down"))
    with use_sender(failing):
        deliver()

    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "event rejected" in text and "delivery" in text  # the logs did speak
    for value in SECRETS.values():
        assert value not in text


def test_secrets_are_encrypted_at_rest(tenant):
    process_events(_secret_events())

    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM notifications_event")
        stored = " ".join(str(row[0]) for row in cursor.fetchall())
    for value in SECRETS.values():
        assert value not in stored
    reset = Event.objects.get(event_type="user.password.reset.requested")
    assert decrypt_text(reset.payload["reset_token"]["$enc"]) == SECRETS["reset_token"]


def test_rejected_events_keep_secrets_only_encrypted(db):
    raw = make_event("auth.2fa.code.requested", code=SECRETS["code"], method="fax")
    process_events([raw, json.dumps(raw)[:-5]])

    for row in RejectedEvent.objects.all():
        assert SECRETS["code"] not in row.original_redacted + row.detail + row.original_encrypted
        assert SECRETS["code"] in decrypt_text(row.original_encrypted)
