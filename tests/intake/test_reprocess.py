from __future__ import annotations

import json

import pytest

from notifications.enums import Outcome
from notifications.events.base_handler import BaseEventHandler
from notifications.events.models import RejectedEvent
from notifications.events.registry import event_registry
from notifications.intake.reprocess import reprocess_rejected
from notifications.security import decrypt_text
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_rejected_original_is_redacted_for_display_but_reprocessable():
    event = make_event("user.registration.completed", temp_password="Sup3rSecret!")
    event["event_type"] = "user.registration.finished"

    result = event_registry.process_event(event)

    stored = RejectedEvent.objects.get(pk=result.rejected_id)
    assert "Sup3rSecret!" not in stored.original_redacted
    assert "Sup3rSecret!" in decrypt_text(stored.original_encrypted)
    assert json.loads(stored.original_redacted)["payload"]["temp_password"] == "[REDACTED]"

    class RenamedRegistration(BaseEventHandler):
        event_types = ("user.registration.finished",)
        payload_model = event_registry.handler_for("user.registration.completed").payload_model

        def _get_email_content(self, event_type, context):
            return {"subject": "Hi", "body": f"pw {context['temp_password']}"}

    handler = event_registry.register(RenamedRegistration())
    try:
        [(row, again)] = reprocess_rejected([stored])
    finally:
        event_registry.unregister_handler(handler)
    assert again.outcome == Outcome.PROCESSED
    row.refresh_from_db()
    assert row.reprocessed_at is not None and "processed" in row.reprocess_result
