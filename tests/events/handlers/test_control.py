"""notifications/events/handlers/control.py: the notification.cancel handler plans no records and its payload is
exactly one storable cancel key (the envelope's rule)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from notifications.events.envelope import ValidatedEvent, validate_event
from notifications.events.handlers.control import (
    CANCEL_EVENT,
    CancelPayload,
    NotificationCancelHandler,
    cancel_key_problem,
)
from notifications.events.registry import event_registry
from notifications.testing import make_event


def test_the_cancel_event_is_registered_and_has_no_channels():
    handler = event_registry.handler_for(CANCEL_EVENT)
    assert isinstance(handler, NotificationCancelHandler)
    assert handler.get_channels(CANCEL_EVENT, {"cancel_key": "k"}) == ()


def test_a_cancel_event_validates_to_its_key_as_written():
    event = validate_event({**make_event(CANCEL_EVENT), "payload": {"cancel_key": " appt 42 "}}, event_registry)
    assert isinstance(event, ValidatedEvent) and event.payload["cancel_key"] == " appt 42 "


@pytest.mark.parametrize("key", ["", " ", "k" * 201, 7, None, ["k"], "a\x00b", "a\ud800b"])
def test_what_cannot_be_a_key_is_refused_naming_cancel_key(key):
    assert "cancel_key" in cancel_key_problem(key)
    with pytest.raises(ValidationError, match="cancel_key"):
        CancelPayload.model_validate({"cancel_key": key})


def test_a_key_of_200_characters_is_one():
    assert cancel_key_problem("k" * 200) is None
