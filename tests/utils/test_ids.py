"""utils.ids: time-ordered event keys, and the bounds history finds them by."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import time_machine

from notifications.intake.keys import new_uuid_texts
from notifications.utils.ids import unmade_after, uuid7, uuid7_floor

JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)


def test_uuid7_floor_orders_below_every_later_key():
    with time_machine.travel(JAN, tick=False):
        made = [*new_uuid_texts(3), str(uuid7())]
    assert all(uuid7_floor(JAN) <= key < uuid7_floor(JAN + timedelta(milliseconds=1)) for key in made)


def test_a_model_key_is_version_7_of_its_millisecond():
    with time_machine.travel(JAN, tick=False):
        key = uuid7()
    assert key.version == 7 and key.variant == uuid.RFC_4122
    assert int(key.hex[:12], 16) == int(JAN.timestamp() * 1000)


def test_random_keys_mostly_lie_above_every_key_made_yet():
    bound = unmade_after(JAN)
    with time_machine.travel(JAN + timedelta(hours=23), tick=False):
        assert str(uuid7()) < bound
    assert str(uuid.UUID(hex="f" + uuid.uuid4().hex[1:])) >= bound
