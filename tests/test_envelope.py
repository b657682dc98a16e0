"""Every rejection reason: a clear result, a stored dead letter with a redacted original, nothing lost."""

from __future__ import annotations

import json

import pytest

from notifications.enums import Outcome, RejectionReason
from notifications.events.base_handler import BaseEventHandler
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import event_registry
from notifications.intake.reprocess import reprocess_rejected
from notifications.intake.service import process_events
from notifications.security import decrypt_text
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

VALID = make_event("user.registration.completed")


def _without(key: str) -> dict:
    event = dict(VALID)
    event.pop(key)
    return event


@pytest.mark.parametrize(
    ("raw", "reason", "detail_part"),
    [
        ("{not json", RejectionReason.INVALID_JSON, "invalid JSON"),
        (b"\xff\xfe", RejectionReason.INVALID_JSON, "not UTF-8"),
        (_without("tenant_id"), RejectionReason.MISSING_TENANT_ID, "tenant_id"),
        ({**VALID, "tenant_id": "  "}, RejectionReason.MISSING_TENANT_ID, "tenant_id"),
        (_without("timestamp"), RejectionReason.MISSING_FIELD, "timestamp"),
        (_without("payload"), RejectionReason.MISSING_FIELD, "payload"),
        (_without("event_type"), RejectionReason.MISSING_FIELD, "event_type"),
        ({**VALID, "timestamp": "yesterday"}, RejectionReason.INVALID_FIELD, "ISO 8601"),
        ({**VALID, "payload": ["a"]}, RejectionReason.INVALID_FIELD, "payload must be"),
        ({**VALID, "tenant_id": "bad tenant!"}, RejectionReason.INVALID_FIELD, "tenant_id"),
        ([1, 2], RejectionReason.INVALID_FIELD, "JSON object"),
        ({**VALID, "event_type": "order.shipped"}, RejectionReason.UNSUPPORTED_EVENT_TYPE, "order.shipped"),
        (make_event("invoice.payment.failed", amount="lots"), RejectionReason.INVALID_PAYLOAD_FIELD, "amount"),
        (make_event("task.assigned", task_title=None), RejectionReason.INVALID_PAYLOAD_FIELD, "task_title"),
        (make_event("auth.2fa.code.requested", method="carrier-pigeon"), RejectionReason.INVALID_PAYLOAD_FIELD,
         "method"),
        (make_event("user.registration.completed", temp_password=None), RejectionReason.INVALID_PAYLOAD_FIELD,
         "temp_password is required"),
        (make_event("user.login.failed", email="not-an-address"), RejectionReason.INVALID_PAYLOAD_FIELD, "email"),
    ],
)
def test_bad_event_is_rejected_with_reason_and_kept(raw, reason, detail_part):
    result = event_registry.process_event(raw)

    assert result.outcome == Outcome.REJECTED
    assert result.reason == reason
    assert detail_part in result.detail
    assert str(result).startswith(f"rejected ({reason.value})")
    stored = RejectedEvent.objects.get(pk=result.rejected_id)
    assert stored.reason == reason.value
    assert stored.original_encrypted and stored.original_redacted
    assert Event.objects.count() == 0


def test_bad_events_do_not_block_the_good_ones_in_a_batch():
    batch = ["{oops", make_event("task.assigned"), {"event_type": "x"}, make_event("content.liked")]

    results = process_events(batch)

    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.PROCESSED, Outcome.REJECTED, Outcome.PROCESSED]
    assert Event.objects.count() == 2
    assert RejectedEvent.objects.count() == 2


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


def test_naive_and_zulu_timestamps_are_utc():
    first = event_registry.process_event(make_event("content.liked") | {"timestamp": "2026-01-01T10:00:00"})
    second = event_registry.process_event(
        make_event("content.liked", content_id="P-10") | {"timestamp": "2026-01-01T10:00:00Z"}
    )

    assert first.outcome == second.outcome == Outcome.PROCESSED
    times = {e.occurred_at.isoformat() for e in Event.objects.all()}
    assert times == {"2026-01-01T10:00:00+00:00"}


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-01-01Z", "2026-01-01T00:00:00+00:00"),  # a date alone, in UTC: midnight
    ("2026-01-01T10:00:00+02:00", "2026-01-01T08:00:00+00:00"),
    ("2026-01-01T10:00:00.123456Z", "2026-01-01T10:00:00.123456+00:00"),
    ("2026-01-01T10:00:00", "2026-01-01T10:00:00+00:00"),
])
def test_timestamps_read_as_utc(text, expected):
    from notifications.events.envelope import _parse_timestamp

    assert _parse_timestamp(text).isoformat() == expected


@pytest.mark.parametrize("text", ["2026-01-01Z10:00:00Z", "yesterday", "", "1969-12-31T23:59:59Z", "9001-01-01"])
def test_timestamps_that_are_refused(text):
    from notifications.events.envelope import _parse_timestamp

    assert _parse_timestamp(text) is None
