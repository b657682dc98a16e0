from __future__ import annotations

import pytest

from notifications.channels.models import InAppMessage
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_secrets_are_purged_at_intake_when_nothing_is_left_to_send(tenant):
    event_registry.process_event(make_event("auth.2fa.code.requested", method="in_app"))

    assert Event.objects.get().payload["code"] == {"$purged": True}
    assert "839201" in InAppMessage.objects.get().body  # delivered before the purge
