"""A tenant-defined type as the tests define it: an order shipped, in English, German and any language."""

from __future__ import annotations

from typing import Any

NAME = "order.shipped"


def definition(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": NAME,
        "description": "An order left the warehouse",
        "payload_schema": {
            "type": "object",
            "required": ["user_id", "order_id"],
            "properties": {
                "user_id": {"type": ["string", "integer"]},
                "order_id": {"type": "string", "minLength": 1, "maxLength": 64},
                "carrier": {"type": "string", "maxLength": 40},
                "items": {"type": "integer", "minimum": 1},
            },
        },
        "channels": ["email", "in_app"],
        "templates": {
            "email": {
                "en": {"subject": "Order {{ order_id }} shipped", "body": "Your order {{ order_id }} is on its way "
                       "with {{ carrier or 'our carrier' }}."},
                "de": {"subject": "Bestellung {{ order_id }} versandt", "body": "Ihre Bestellung {{ order_id }} ist "
                       "unterwegs."},
            },
            "in_app": {"": {"title": "Order {{ order_id }}", "body": "Shipped: {{ items }} item(s)"}},
        },
        "example": {"user_id": "u-1", "order_id": "A-1", "carrier": "DHL", "items": 2},
    }
    body.update(changes)
    return body


def event(tenant_id: str = "acme", user_id: str = "u-1", event_type: str = NAME, **payload: Any) -> dict[str, Any]:
    return {"event_type": event_type, "tenant_id": tenant_id, "timestamp": "2026-12-06T10:00:00Z",
            "payload": {"user_id": user_id, "order_id": "A-42", "carrier": "UPS", "items": 3, **payload}}
