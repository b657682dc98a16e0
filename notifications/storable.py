"""What the service can store: the one definition of storable text and JSON, used by every API schema, query
and path parameter, the tenant model's clean() and the envelope.

PostgreSQL refuses NUL characters in text and in jsonb ("A string literal cannot contain NUL (0x00)
characters"), and UTF-8 cannot encode a lone surrogate; SQLite would store both. So both are refused at the
door, with the same error on either database, and lengths are those of the columns the values go to."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import GroupedMetadata
from pydantic import AfterValidator, Field, StringConstraints

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
UNSTORABLE_MESSAGE = "must not contain NUL characters or lone surrogates"

# PostgreSQL's integer column is 32-bit, bigint 64-bit (Django's AutoField/BigAutoField ids).
MAX_INT32 = 2**31 - 1
MAX_INT64 = 2**63 - 1

# Column sizes the API's values go to (the models' max_length).
ID_LENGTH = 128  # user ids and event types (NotificationRecord, Contact, Preference, Device)
#: A template variable's or a payload field's name, as tenant settings name them (branding keys, supersede and
#: digest key fields).
FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
CHANNEL_LENGTH = 16
CANCEL_KEY_LENGTH = 200  # NotificationRecord.cancel_key
NAME_LENGTH = 200  # tenant and template names
URL_LENGTH = 200  # Tenant.app_url (URLField)
LOCALE_LENGTH = 35
TEXT_LENGTH = 10_000  # free text inside JSON fields (template content parts, branding values)

# JSON fields (branding, device subscriptions, sample payloads, template content): bounded as a whole.
JSON_MAX_DEPTH = 16
JSON_MAX_ITEMS = 1_000  # keys and list entries together, at every level
JSON_MAX_TEXT = 256 * 1024  # characters of all keys and strings together


def unstorable(value: str) -> bool:
    """Whether PostgreSQL or UTF-8 would refuse this text."""
    return UNSTORABLE.search(value) is not None


def check_text(value: str) -> str:
    if UNSTORABLE.search(value):
        raise ValueError(UNSTORABLE_MESSAGE)
    return value


@dataclass(frozen=True)
class Storable(GroupedMetadata):
    """Pydantic's checks for storable text, as one annotation: `Annotated[str, Storable(200)]` is a `str` to a
    type checker and, to pydantic, a string of at most 200 characters that the database can store (lengths are
    checked first, so a huge value is refused without being scanned)."""

    max_length: int
    min_length: int = 0

    def __iter__(self) -> Iterator[object]:
        yield from StringConstraints(min_length=self.min_length, max_length=self.max_length)
        yield AfterValidator(check_text)


def text(max_length: int, min_length: int = 0) -> Any:
    """A storable string type built at runtime (a type checker reads it as Any: in an annotation, write
    `Annotated[str, Storable(max_length, min_length)]`)."""
    return Annotated[str, Storable(max_length, min_length)]


def json_problem(value: Any, *, max_depth: int = JSON_MAX_DEPTH, max_items: int = JSON_MAX_ITEMS,
                 max_text: int = JSON_MAX_TEXT) -> str | None:
    """Why a JSON value cannot be stored (unstorable text in a key or string, too deep, too many entries, too
    much text), or None. Iterative, and it stops at the first bound crossed."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    items = characters = 0
    while stack:
        item, depth = stack.pop()
        if depth > max_depth:
            return f"nested deeper than {max_depth} levels"
        if isinstance(item, str):
            characters += len(item)
            if characters > max_text:
                return f"holds more than {max_text} characters of text"
            if UNSTORABLE.search(item):
                return f"text {UNSTORABLE_MESSAGE}"
        elif isinstance(item, dict):
            items += len(item)
            if items > max_items:
                return f"holds more than {max_items} entries"
            for key, entry in item.items():
                stack.append((key, depth + 1))
                stack.append((entry, depth + 1))
        elif isinstance(item, list):
            items += len(item)
            if items > max_items:
                return f"holds more than {max_items} entries"
            stack.extend((entry, depth + 1) for entry in item)
        elif isinstance(item, int) and not isinstance(item, bool) and not -MAX_INT64 - 1 <= item <= MAX_INT64:
            return "holds an integer beyond 64 bits"
        elif isinstance(item, float) and not math.isfinite(item):
            return "holds a number that is not finite"
    return None


def json_checker(**bounds: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        problem = json_problem(value, **bounds)
        if problem:
            raise ValueError(problem)
        return value

    return check


def json_object(**bounds: int) -> Any:
    """A JSON object type whose whole content is storable and bounded (see json_problem), built at runtime (in an
    annotation, write `Annotated[dict[str, Any], AfterValidator(json_checker(...))]`, a dict to a type checker)."""
    return Annotated[dict[str, Any], AfterValidator(json_checker(**bounds))]


# The common shapes, named once.
UserId = Annotated[str, Storable(ID_LENGTH, min_length=1)]
EventType = Annotated[str, Storable(ID_LENGTH, min_length=1)]
ChannelName = Annotated[str, Storable(CHANNEL_LENGTH, min_length=1)]
Locale = Annotated[str, Storable(LOCALE_LENGTH)]
StoredJSON = Annotated[dict[str, Any], AfterValidator(json_checker())]
RowId = Annotated[int, Field(ge=1, le=MAX_INT64)]


def validate_storable(value: Any) -> None:
    """A Django validator: text, or a JSON value, that the database can store."""
    from django.core.exceptions import ValidationError

    problem = (UNSTORABLE_MESSAGE if unstorable(value) else None) if isinstance(value, str) else json_problem(value)
    if problem:
        raise ValidationError(problem, code="unstorable")
