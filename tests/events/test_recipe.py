"""The "Add an event type" recipe of notifications/events/README.md, followed step by step from a user's app:
the new type is validated, planned, delivered in-app and by e-mail, previewed, and its templates checked on save."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.core.exceptions import ValidationError as TemplateInvalid
from pydantic import ValidationError

from notifications.enums import Channel, Outcome
from notifications.events.base_handler import BaseEventHandler
from notifications.events.handlers.fields import UserPayload
from notifications.events.registry import event_registry
from notifications.models import InAppMessage, NotificationRecord, NotificationTemplate

pytestmark = pytest.mark.django_db


# Step 1: a payload model with the required fields.
class BuildFinishedPayload(UserPayload):
    build_id: str
    passed: bool


# Step 2: a handler: types, channels, payload model, default templates per channel.
class BuildFinishedHandler(BaseEventHandler):
    event_types = ("ci.build.finished",)
    channels = (Channel.EMAIL, Channel.IN_APP)
    payload_model = BuildFinishedPayload
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {"subject": "Build {{ build_id }} {{ 'passed' if passed else 'failed' }}",
                        "body": "Hi {{ first_name or 'there' }}, build {{ build_id }} finished."},
        Channel.IN_APP: {"title": "Build {{ build_id }}", "body": "{{ 'Passed' if passed else 'Failed' }}",
                         "action_url": "{{ app_url }}/builds/{{ build_id }}"},
    }

    # Step 4 (a user's own app): the example payload that preview and the template save check use.
    def example_payload(self, event_type: str) -> dict[str, Any]:
        return {"user_id": "u-1", "email": "dev@example.com", "build_id": "b-7", "passed": True}


@pytest.fixture
def registered():
    # Step 3: registered from the user's app (its AppConfig.ready() in real life).
    handler = event_registry.register(BuildFinishedHandler())
    yield handler
    event_registry.unregister("ci.build.finished")


def _event(**payload: Any) -> dict[str, Any]:
    return {"event_type": "ci.build.finished", "tenant_id": "acme", "timestamp": "2026-12-04T10:00:00",
            "payload": {"user_id": "u-9", "email": "ada@example.com", "first_name": "Ada", "build_id": "b-1",
                        "passed": False, **payload}}


def test_a_new_event_type_is_taken_in_and_delivered(tenant, registered, deliver):
    result = event_registry.process_event(_event())

    assert result.outcome == Outcome.PROCESSED
    assert {(r.channel, r.status) for r in result.records} == {("email", "pending"), ("in_app", "sent")}
    message = InAppMessage.objects.get(user_id="u-9")
    assert (message.title, message.body) == ("Build b-1", "Failed")
    deliver()
    email = NotificationRecord.objects.get(channel="email", user_id="u-9")
    assert email.status == "sent"


def test_its_payload_model_validates(tenant, registered):
    result = event_registry.process_event(_event(passed="not a bool", build_id=None))
    assert result.outcome == Outcome.REJECTED and result.reason.value == "invalid_payload_field"
    assert "build_id" in result.detail


def test_its_templates_are_checked_on_save_with_its_example(tenant, registered):
    template = NotificationTemplate(tenant=tenant, name="ci_build_finished_email", channel="email",
                                    content={"subject": "{{ build_id }}", "body": "{% for i in range(1000) %}"
                                             "{% for j in range(1000) %}x{% endfor %}{% endfor %}"})
    with pytest.raises(TemplateInvalid) as raised:
        template.full_clean()
    assert "budget" in str(raised.value)


def test_unregistered_it_is_unsupported(tenant):
    result = event_registry.process_event(_event())
    assert result.outcome == Outcome.REJECTED and result.reason.value == "unsupported_event_type"
    with pytest.raises(ValidationError):
        BuildFinishedPayload.model_validate({"user_id": "u"})
