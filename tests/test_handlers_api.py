"""The guide's handler contract: a user's own handler, and the registry's rules."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.enums import Outcome
from notifications.errors import HandlerAlreadyRegistered, NotificationConfigurationError
from notifications.events.base_handler import BaseEventHandler
from notifications.events.handlers import TaskAssignedHandler
from notifications.events.registry import EventRegistry, event_registry

pytestmark = pytest.mark.django_db


# Exactly the guide's "Mock Event Testing" handler.
class MockEventHandler(BaseEventHandler):
    def can_handle(self, event_type):
        return event_type == 'test.event'

    def get_template_data(self, payload):
        return payload

    def _get_email_content(self, event_type, context):
        return {'subject': 'Test', 'body': 'Test email'}


TEST_EVENT = {
    "event_type": "test.event",
    "tenant_id": "your-tenant-id",
    "timestamp": "2026-11-23T10:00:00",
    "payload": {"user_id": "u-9", "email": "mock@example.com"},
}


@pytest.fixture
def mock_handler():
    handler = MockEventHandler()
    yield handler
    event_registry.unregister_handler(handler)


@pytest.mark.parametrize("how", ["by_can_handle", "with_event_types"])
def test_guides_mock_handler_can_be_registered_and_works(mock_handler, deliver, how):
    if how == "by_can_handle":
        event_registry.register(mock_handler)
    else:
        event_registry.register(mock_handler, event_types=["test.event"])

    result = event_registry.process_event(TEST_EVENT)
    deliver()

    assert result.outcome == Outcome.PROCESSED
    assert [(r.channel, r.status) for r in result.records] == [("email", "pending")]
    [email] = mail.outbox
    assert (email.subject, email.body, email.to) == ("Test", "Test email", ["mock@example.com"])


def test_unregistered_type_is_unsupported():
    result = event_registry.process_event(TEST_EVENT)
    assert result.reason == "unsupported_event_type"


def test_second_handler_for_a_type_raises_unless_replacing():
    registry = EventRegistry()
    registry.register(TaskAssignedHandler())

    with pytest.raises(HandlerAlreadyRegistered, match="already has handler TaskAssignedHandler"):
        registry.register(TaskAssignedHandler())

    class BetterTasks(TaskAssignedHandler):
        pass

    registry.register(BetterTasks(), replace=True)
    assert type(registry.handler_for("task.assigned")) is BetterTasks


def test_registering_a_class_or_a_type_it_cannot_handle_is_refused():
    registry = EventRegistry()
    with pytest.raises(NotificationConfigurationError, match="not a BaseEventHandler instance"):
        registry.register(MockEventHandler)  # type: ignore[arg-type]
    with pytest.raises(NotificationConfigurationError, match="can_handle"):
        registry.register(MockEventHandler(), event_types=["other.event"])


def test_handler_channels_default_to_the_content_it_implements():
    assert MockEventHandler().get_channels("test.event", {}) == ("email",)
