from __future__ import annotations

import pytest

from notifications.delivery.models import NotificationRecord
from notifications.enums import Outcome, Status
from notifications.events.registry import event_registry
from notifications.testing import EXAMPLE_PAYLOADS, make_event
from tests.helpers import channels_of, delivered_text

pytestmark = pytest.mark.django_db


# What each channel must show for each type: a fact from the payload, formatted.
EXPECTED = {
    "user.registration.completed": {"email": "Username: johndoe", "in_app": "Welcome to Acme"},
    "user.password.reset.requested": {"email": "rst-tok-9f8e7d", "sms": "reset your password"},
    "user.login.succeeded": {"email": "Berlin, DE"},
    "user.login.failed": {"email": "3 failed sign-in attempts", "sms": "Lagos, NG", "push": "3 failed"},
    "invoice.payment.failed": {"email": "$1,234.50", "sms": "$1,234.50", "push": "INV-1001"},
    "invoice.payment.succeeded": {"email": "$1,234.50 for invoice INV-1001 by credit card", "in_app": "INV-1001"},
    "task.assigned": {"email": "Review Q4 budget", "in_app": "Jane Smith", "push": "Review Q4 budget"},
    "comment.mentioned": {"email": "Launch plan", "in_app": "can you check this?", "push": "Jane Smith"},
    "content.liked": {"in_app": "Jane Smith and 2 others", "push": "My first post"},
    "auth.2fa.code.requested": {"sms": "839201 is your Acme verification code"},
    "auth.2fa.attempt.failed": {"email": "2 times", "sms": "2 failed verification", "push": "two-factor"},
    "auth.2fa.method.changed": {"email": "from sms to authenticator app", "sms": "authenticator app",
                                "in_app": "authenticator app"},
    "notification.cancel": {},  # a control event: no notifications of its own
}


def test_every_builtin_type_is_registered():
    assert set(event_registry.event_types) == set(EXAMPLE_PAYLOADS) == set(EXPECTED)


@pytest.mark.parametrize("event_type", sorted(EXAMPLE_PAYLOADS))
def test_event_type_notifies_its_channels_with_content(event_type, tenant, deliver):
    channels = channels_of(event_type)
    assert channels == set(EXPECTED[event_type]), "each channel the handler picks has its content checked"
    result = event_registry.process_event(make_event(event_type))
    assert result.outcome == Outcome.PROCESSED, str(result)
    assert {r.channel for r in result.records} == channels

    deliver()

    statuses = dict(NotificationRecord.objects.values_list("channel", "status"))
    assert statuses == {channel: Status.SENT for channel in channels}
    for channel, expected in EXPECTED[event_type].items():
        assert expected in delivered_text(channel), f"{event_type}/{channel} lacks {expected!r}"


@pytest.mark.parametrize("event_type", sorted(EXAMPLE_PAYLOADS))
def test_every_channel_of_every_type_has_default_content(event_type):
    handler = event_registry.handler_for(event_type)
    channels = set(handler.channels or ())
    assert channels or handler.channels == (), event_type  # only a control event declares no channel
    for channel in channels:
        assert handler.default_templates.get(channel), f"{event_type} has no default {channel} content"
