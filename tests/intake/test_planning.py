"""Planning a notification's records: a channel without an address is skipped, never misrouted."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.enums import SkipReason, Status
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_channel_without_address_is_skipped_never_misrouted(tenant, deliver):
    event = make_event("invoice.payment.failed", email=None, phone=None, user_id="u-without-device")

    result = event_registry.process_event(event)
    deliver()

    by_channel = {r.channel: (r.status, r.reason) for r in result.records}
    assert by_channel == {
        "email": (Status.SKIPPED, SkipReason.NO_ADDRESS),
        "sms": (Status.SKIPPED, SkipReason.NO_ADDRESS),
        "push": (Status.SKIPPED, SkipReason.NO_ADDRESS),
    }
    assert mail.outbox == []
