from __future__ import annotations

import pytest

from notifications.enums import Outcome, RejectionReason
from notifications.events.base_handler import BaseEventHandler
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

GOOD = make_event("task.assigned")


def test_a_handler_bug_becomes_a_processing_error_not_a_crash(tenant):
    class Broken(BaseEventHandler):
        event_types = ("broken.event",)

        def get_channels(self, event_type, payload):
            raise RuntimeError("bug in a custom handler")

    handler = event_registry.register(Broken())
    try:
        results = process_events([{**GOOD, "event_type": "broken.event"}, GOOD])
    finally:
        event_registry.unregister_handler(handler)

    assert results[0].reason == RejectionReason.PROCESSING_ERROR
    assert "RuntimeError" in results[0].detail
    assert results[1].outcome == Outcome.PROCESSED
    assert RejectedEvent.objects.get().reason == "processing_error"
    assert Event.objects.count() == 1
