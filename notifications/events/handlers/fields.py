"""Payload field types shared by the built-in handlers."""

from __future__ import annotations

import re
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail.message import sanitize_address
from django.core.validators import validate_email
from pydantic import BeforeValidator, Field

from notifications.events.base_handler import EventPayload

# Matched with fullmatch: a `$` would also match before a final newline.
_PHONE = re.compile(r"\+?[0-9]{6,15}")
E164 = re.compile(r"\+[1-9][0-9]{6,14}")  # what an SMS can be sent to
_PHONE_SEPARATORS = re.compile(r"[\s().-]")


def _blank_to_none(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        return None
    return value


_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,63}")


def _email(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 254:
        raise ValueError("not a valid e-mail address")
    return _checked_email(value.strip())


@lru_cache(maxsize=65536)
def _checked_email(value: str) -> str:
    if _PLAIN_EMAIL.fullmatch(value) and ".." not in value:
        return value  # the common case: nothing the mailer could read differently
    try:
        validate_email(value)
        # What Django's mailer puts in the To: header must be this very address, nothing else.
        local, _, domain = value.rpartition("@")
        if sanitize_address(value, "utf-8") != f"{local}@{domain.encode('idna').decode('ascii')}":
            raise ValueError
    except (DjangoValidationError, ValueError, UnicodeError) as err:
        raise ValueError("not a valid e-mail address") from err
    return value


def _phone(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a phone number must be a string")
    # Only values of a phone number's size are remembered: an event may carry a megabyte of padding.
    return _compact_phone(value) if len(value) <= 40 else _compact_phone.__wrapped__(value)


@lru_cache(maxsize=65536)
def _compact_phone(value: str) -> str:
    compact = _PHONE_SEPARATORS.sub("", value)
    if not _PHONE.fullmatch(compact):
        raise ValueError("not a valid phone number (use E.164, e.g. +14155550123)")
    return compact


Email = Annotated[str | None, BeforeValidator(_email)]
Phone = Annotated[str | None, BeforeValidator(_phone)]
OptionalText = Annotated[Annotated[str, Field(max_length=10_000)] | None, BeforeValidator(_blank_to_none)]
Name = Annotated[Annotated[str, Field(max_length=150)] | None, BeforeValidator(_blank_to_none)]
Locale = Annotated[Annotated[str, Field(max_length=35)] | None, BeforeValidator(_blank_to_none)]
OptionalDateTime = Annotated[datetime | None, BeforeValidator(_blank_to_none)]
RequiredText = Annotated[str, Field(min_length=1, max_length=10_000)]
UserId = Annotated[str, Field(min_length=1, max_length=128)]


# Payload numbers: an amount below 10^12 with at most 4 decimals (a currency's minor units), counts below 10^9.
MAX_AMOUNT = 10**12
AMOUNT_DECIMAL_PLACES = 4
MAX_COUNT = 10**9


class UserPayload(EventPayload):
    """Every built-in event is about one user."""

    user_id: UserId
    email: Email = None
    phone: Phone = None
    first_name: Name = None
    last_name: Name = None
    locale: Locale = None
