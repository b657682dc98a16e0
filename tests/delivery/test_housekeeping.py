"""Delivery's housekeeping: in-app secrets expired at most once a second per worker process."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.channels.models import InAppMessage
from notifications.delivery.engine import DeliveryEngine, deliver_until_idle
from notifications.delivery.secrets import EXPIRED_BODY
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_worker_sweeps_expired_inbox_secrets_at_most_once_a_second(tenant):
    clock = [1000.0]
    engine = DeliveryEngine(concurrency=4)
    engine.inbox_expiry.clock = lambda: clock[0]
    for seconds in range(3):
        event_registry.process_event(make_event("auth.2fa.code.requested", method="in_app", expires_in_minutes=5,
                                                timestamp=timezone.now() - timedelta(seconds=seconds)))
    first, second, third = InAppMessage.objects.order_by("id")

    def expire(message: InAppMessage) -> None:
        InAppMessage.objects.filter(pk=message.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    def blanked(message: InAppMessage) -> bool:
        return InAppMessage.objects.get(pk=message.pk).body == EXPIRED_BODY

    expire(first)
    assert engine.expire_inbox_secrets() == 1 and blanked(first)
    expire(second)
    clock[0] += 0.5
    assert engine.expire_inbox_secrets() == 0  # swept half a second ago: not again yet
    assert engine.deliver_due().claimed == 0 and not blanked(second)
    clock[0] += 0.6
    assert engine.deliver_due().claimed == 0 and blanked(second)  # an empty claim sweeps once the second is up
    expire(third)
    clock[0] += 1.0
    assert deliver_until_idle(engine=engine).claimed == 0 and blanked(third)  # `run_delivery_worker --once`
