"""The registry sits below intake: `process_event` goes to what NotificationsConfig.ready() bound, and names the
problem when nothing is bound."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from notifications.errors import HandlerAlreadyRegistered, NotificationConfigurationError, RegistryNotBound
from notifications.events.base_handler import BaseEventHandler
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

    with pytest.raises(HandlerAlreadyRegistered, match="task.assigned"):
        registry.register(Tasks())

    class Other(BaseEventHandler):
        def can_handle(self, event_type):
            return event_type == "other.event"

    registry.register(Other())
    with pytest.raises(HandlerAlreadyRegistered):
        registry.register(Other())
    registry.register(Tasks(), replace=True)
    assert isinstance(registry.get_handler("task.assigned"), Tasks)
