"""Example payloads live with the events (not in the test helpers): preview and the save check use a handler's
example_payload(), which a handler of the user's own event type overrides."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from notifications import testing
from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler
from notifications.events.examples import EXAMPLE_PAYLOADS, SAMPLE_FALLBACK
from notifications.events.registry import event_registry
from notifications.rendering.trial import sample_context
from notifications.tenants.models import Tenant


class ParcelShippedHandler(BaseEventHandler):
    event_types: ClassVar[tuple[str, ...]] = ("parcel.shipped",)
    channels: ClassVar[tuple[Channel, ...]] = (Channel.SMS,)
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {Channel.SMS: {"body": "{{ tracking }}"}}

    def example_payload(self, event_type: str) -> dict[str, Any]:
        return {"user_id": "u-9", "tracking": "TRK-1"}


def test_the_test_helpers_reexport_the_events_examples() -> None:
    assert testing.EXAMPLE_PAYLOADS is EXAMPLE_PAYLOADS
    assert set(EXAMPLE_PAYLOADS) == set(event_registry.event_types)


def test_a_builtin_handler_answers_its_types_example() -> None:
    handler = event_registry.handler_for("task.assigned")
    assert handler.example_payload("task.assigned") is EXAMPLE_PAYLOADS["task.assigned"]
    assert BaseEventHandler().example_payload("no.such.type") == SAMPLE_FALLBACK


@pytest.mark.django_db
def test_a_handler_of_its_own_type_is_previewed_with_its_own_example() -> None:
    context = sample_context(ParcelShippedHandler(), "parcel.shipped", Tenant(id="acme"))
    assert context["tracking"] == "TRK-1" and context["user_id"] == "u-9"
