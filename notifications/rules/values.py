"""The values a condition reads, as CEL sees them (rules.conditions explains why numbers are doubles), shared
by the CEL path (rules.compiled) and the fast path (rules.fastpath)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel


def cel_value(value: Any) -> Any:
    """A payload value as a condition sees it (see the module's note on values): numbers as doubles, date-times
    as they are (CEL timestamps), dates and anything else not JSON-like as text, models as their fields."""
    kind = type(value)
    if kind is str or kind is float or kind is bool or value is None:
        return value
    if kind is int or kind is Decimal:
        return float(value)
    if kind is dict:
        return {str(key): cel_value(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [cel_value(item) for item in value]
    if isinstance(value, datetime):
        return value
    if isinstance(value, BaseModel):
        return cel_value(dict(value))
    if isinstance(value, Enum):
        return cel_value(value.value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def recipient_values(contact: Mapping[str, Any]) -> dict[str, Any]:
    """What a condition may know of the recipient: no address, no secret; only whether they have one."""
    return {"locale": contact.get("locale") or "", "timezone": contact.get("timezone") or "",
            "has_email": bool(contact.get("email")), "has_phone": bool(contact.get("phone"))}
