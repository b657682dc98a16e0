"""notifications/delivery/loop.py: the worker's loop and how much it claims."""

from __future__ import annotations

import pytest

from notifications.delivery.loop import DeliveryLoop
from notifications.delivery.report import DeliveryReport

pytestmark = pytest.mark.django_db


def test_claims_stay_small_under_light_load_and_grow_with_a_backlog(settings):
    """The loop's claim size: what falls due waits for the claim in progress, so claims are small unless full
    claims in a row show a backlog."""
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "DELIVERY_BATCH_SIZE": 1000}
    loop = DeliveryLoop(poll_seconds=0.01, concurrency=100)
    due = [250, 0, 5000, 0]  # a burst, quiet, a backlog, quiet
    sizes = []

    def deliver_due(size):
        sizes.append(size)
        claimed = min(size, due[0])
        due[0] -= claimed
        if not claimed:
            due.pop(0)
        if not due:
            loop.stopping.set()
        return DeliveryReport(claimed=claimed)

    loop.engine.deliver_due = deliver_due
    loop.run()

    assert sizes == [
        200, 200, 200,  # the burst of 250: one full claim does not grow the next
        200,  # quiet
        200, 200, 200, 400, 800, 1000, 1000, 1000, 1000, 200,  # a backlog: three full claims in a row, doubling
        200,  # quiet again: back to 2 x concurrency
    ]
