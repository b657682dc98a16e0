"""Time-ordered UUIDs (version 7, RFC 9562): the events' keys. Intake makes a batch's at once
(intake/keys.py); one made elsewhere (an event saved through the ORM) comes from `uuid7()`. Their time is what
history uses to find an event's records by time (history/partitions.py, history/retention.py)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from time import time_ns


def uuid7() -> uuid.UUID:
    """A version 7 UUID of this millisecond: the Unix time in milliseconds, then random bits."""
    data = bytearray((time_ns() // 1_000_000).to_bytes(6, "big") + os.urandom(10))
    data[6] = data[6] & 0x0F | 0x70
    data[8] = data[8] & 0x3F | 0x80
    return uuid.UUID(bytes=bytes(data))


def unmade_after(moment: datetime) -> str:
    """Keys at or above this one were not made by `moment` as version 7 (a day's margin for clocks): in a
    database from before ef08eef they are random version 4 keys, found by this bound since their time is not
    in them."""
    return uuid7_floor(moment + timedelta(days=1))


def uuid7_floor(moment: datetime) -> str:
    """The smallest version 7 UUID of this millisecond: every key made before it is smaller."""
    millis = int(moment.timestamp() * 1000)
    hexed = f"{millis:012x}7000800000000000" + "0" * 4
    return f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:32]}"
