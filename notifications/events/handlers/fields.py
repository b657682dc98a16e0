"""Payload field types shared by the built-in handlers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from notifications.events.base_handler import EventPayload

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9]{6,15}$")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _email(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if not isinstance(value, str) or not _EMAIL.match(value.strip()) or len(value) > 254:
        raise ValueError("not a valid e-mail address")
    return value.strip()


def _phone(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a phone number must be a string")
    compact = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(compact):
        raise ValueError("not a valid phone number (use E.164, e.g. +14155550123)")
    return compact


Email = Annotated[str | None, BeforeValidator(_email)]
Phone = Annotated[str | None, BeforeValidator(_phone)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none)]
OptionalDateTime = Annotated[datetime | None, BeforeValidator(_blank_to_none)]
RequiredText = Annotated[str, Field(min_length=1)]


class UserPayload(EventPayload):
    """Every built-in event is about one user."""

    user_id: RequiredText
    email: Email = None
    phone: Phone = None
    first_name: OptionalText = None
    last_name: OptionalText = None
    locale: OptionalText = None
