"""The registry sits below intake: `process_event` goes to what NotificationsConfig.ready() bound, and names the
problem when nothing is bound."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core import mail

from notifications.enums import Outcome
from notifications.errors import HandlerAlreadyRegistered, NotificationConfigurationError, RegistryNotBound
from notifications.events.base_handler import BaseEventHandler
from notifications.events.handlers import TaskAssignedHandler
from notifications.events.registry import EventRegistry, event_registry
from notifications.intake.service import process_events
from notifications.testing import make_event

ROOT = Path(__file__).resolve().parents[2]


def test_an_unbound_registry_raises_a_named_error() -> None:
    with pytest.raises(RegistryNotBound, match="no intake bound") as raised:
        EventRegistry().process_event(make_event("task.assigned"))
    assert isinstance(raised.value, NotificationConfigurationError)  # retry code never swallows it


def test_a_bound_registry_hands_events_to_its_processor() -> None:
    seen: list[tuple[list[Any], str]] = []
    registry = EventRegistry()
    registry.bind(lambda events, source: seen.append((events, source)) or ["taken"] * len(events))

    assert registry.process_event({"event_type": "x"}, source="here") == "taken"
    assert registry.process_events(iter([{"a": 1}, {"b": 2}])) == ["taken", "taken"]
    assert seen == [([{"event_type": "x"}], "here"), ([{"a": 1}, {"b": 2}], "local")]


def test_the_apps_registry_is_bound_to_intake() -> None:
    assert event_registry.processor is process_events


@pytest.mark.django_db
def test_the_guides_process_event_takes_an_event_in(tenant: Any) -> None:
    result = event_registry.process_event(make_event("task.assigned"))
    assert "processed task.assigned" in str(result)


def test_without_django_the_guides_call_names_the_problem() -> None:
    """The guide's import and call in a bare interpreter: events imports no intake, so the answer is
    RegistryNotBound rather than Django's app-registry errors from deep inside intake."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    code = ("from notifications.events.registry import event_registry\n"
            "try:\n    event_registry.process_event({'event_type': 'task.assigned'})\n"
            "except Exception as err:\n    print(type(err).__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.strip() == "RegistryNotBound", done.stderr


@pytest.mark.django_db
def test_can_handle_only_handlers_may_not_shadow_or_duplicate():
    registry = EventRegistry()
    from notifications.events.handlers import TaskAssignedHandler

    registry.register(TaskAssignedHandler())

    class Tasks(BaseEventHandler):
        def can_handle(self, event_type):
            return event_type.startswith("task.")

    with pytest.raises(HandlerAlreadyRegistered, match=r"task\.assigned"):
        registry.register(Tasks())

    class Other(BaseEventHandler):
        def can_handle(self, event_type):
            return event_type == "other.event"

    registry.register(Other())
    with pytest.raises(HandlerAlreadyRegistered):
        registry.register(Other())
    registry.register(Tasks(), replace=True)
    assert isinstance(registry.get_handler("task.assigned"), Tasks)


# Exactly the guide's "Mock Event Testing" handler (one copy, shared with the configured-handler tests).
from tests.handlers_for_tests import MockEventHandler  # noqa: E402

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


@pytest.mark.django_db
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


@pytest.mark.django_db
def test_unregistered_type_is_unsupported():
    result = event_registry.process_event(TEST_EVENT)
    assert result.reason == "unsupported_event_type"


@pytest.mark.django_db
def test_second_handler_for_a_type_raises_unless_replacing():
    registry = EventRegistry()
    registry.register(TaskAssignedHandler())

    with pytest.raises(HandlerAlreadyRegistered, match="already has handler TaskAssignedHandler"):
        registry.register(TaskAssignedHandler())

    class BetterTasks(TaskAssignedHandler):
        pass

    registry.register(BetterTasks(), replace=True)
    assert type(registry.handler_for("task.assigned")) is BetterTasks


@pytest.mark.django_db
def test_registering_a_class_or_a_type_it_cannot_handle_is_refused():
    registry = EventRegistry()
    with pytest.raises(NotificationConfigurationError, match="not a BaseEventHandler instance"):
        registry.register(MockEventHandler)  # type: ignore[arg-type]
    with pytest.raises(NotificationConfigurationError, match="can_handle"):
        registry.register(MockEventHandler(), event_types=["other.event"])


@pytest.mark.django_db
def test_handler_channels_default_to_the_content_it_implements():
    assert MockEventHandler().get_channels("test.event", {}) == ("email",)
