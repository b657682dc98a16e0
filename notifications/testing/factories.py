"""Valid example events for the 11 built-in types, built from their example payloads
(notifications/events/examples.py)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from notifications.events.examples import EXAMPLE_PAYLOADS, EXAMPLE_TIME

__all__ = ["EXAMPLE_PAYLOADS", "make_event"]


def make_event(event_type: str, tenant_id: str = "acme", *, timestamp: datetime | None = None,
               **payload_overrides: Any) -> dict[str, Any]:
    """A valid event of this type; keyword arguments replace payload fields (None removes one)."""
    payload = copy.deepcopy(EXAMPLE_PAYLOADS[event_type])
    for key, value in payload_overrides.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    return {
        "event_type": event_type,
        "tenant_id": tenant_id,
        "timestamp": (timestamp or EXAMPLE_TIME).isoformat(),
        "payload": payload,
    }
