"""Intake's cost for a tenant-defined event type against a built-in of the same channels (e-mail and in-app):
N events of `invoice.payment.succeeded`, then N of a tenant's `order.shipped` (JSON Schema, templates in two
locales), each in batches of 2,000 through `process_events`, in a fresh PostgreSQL database. Prints the Python
CPU per event of each; the in-app message of each event is rendered at intake, so rendering is included.

    bash scripts/postgres.sh run .venv/bin/python bench/tenant_types_intake.py [N]"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

TENANT = "bench"
ORDER_SHIPPED: dict[str, Any] = {
    "payload_schema": {
        "type": "object", "required": ["user_id", "order_id"],
        "properties": {"user_id": {"type": "string"}, "email": {"type": "string"},
                       "order_id": {"type": "string", "maxLength": 64}, "carrier": {"type": "string"},
                       "items": {"type": "integer", "minimum": 1}}},
    "channels": ["email", "in_app"],
    "templates": {
        "email": {"en": {"subject": "Order {{ order_id }} shipped", "body": "With {{ carrier }}: {{ items }}"},
                  "de": {"subject": "Bestellung {{ order_id }} versandt", "body": "Mit {{ carrier }}"}},
        "in_app": {"": {"title": "Order {{ order_id }}", "body": "Shipped: {{ items }} item(s)"}}},
    "example": {"user_id": "u-1", "order_id": "A-1", "carrier": "DHL", "items": 2},
}


def events(event_type: str, count: int) -> list[bytes]:
    from notifications.testing.factories import make_event

    made = []
    for n in range(count):
        user = f"user-{n % 5000}"
        if event_type == "order.shipped":
            payload = {"user_id": user, "email": f"{user}@example.com", "order_id": f"O-{n}", "carrier": "UPS",
                       "items": 1 + n % 5}
            event = {"event_type": event_type, "tenant_id": TENANT, "timestamp": "2026-12-06T10:00:00Z",
                     "payload": payload}
        else:
            event = make_event(event_type, TENANT, user_id=user, email=f"{user}@example.com")
        event["event_id"] = f"{event_type}-{n}"
        made.append(json.dumps(event).encode())
    return made


def python_us_per_event(batch: list[bytes]) -> float:
    from notifications.intake.service import process_events

    started = time.process_time()
    for start in range(0, len(batch), 2000):
        results = process_events(batch[start:start + 2000], source="bench")
        if not all(result.ok for result in results):
            raise SystemExit(f"rejected: {next(r for r in results if not r.ok)}")
    return 1e6 * (time.process_time() - started) / len(batch)


def workload() -> int:
    from notifications.rendering.service import warm_up
    from notifications.tenant_types import service

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    service.create(TENANT, "order.shipped", ORDER_SHIPPED)
    warm_up()
    built_in_events, tenant_events = events("invoice.payment.succeeded", count + 500), events("order.shipped",
                                                                                             count + 500)
    python_us_per_event(built_in_events[:500] + tenant_events[:500])  # first compiles and caches out of the count
    built_in = python_us_per_event(built_in_events[500:])
    tenant_type = python_us_per_event(tenant_events[500:])
    print(f"{count} events each: Python per event: built-in invoice.payment.succeeded {built_in:.0f} us, "
          f"tenant-defined order.shipped {tenant_type:.0f} us")
    return 0


if __name__ == "__main__":
    common.standalone(workload)
