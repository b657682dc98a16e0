"""Values as one PostgreSQL array literal, bound as a single text parameter."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any


def text_array_literal(values: Iterable[str]) -> str:
    """Strings as one PostgreSQL array literal, every element quoted (so a comma, a brace, a space or the word
    NULL is only text) with its backslashes and double quotes escaped."""
    return "{" + ",".join(['"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values]) + "}"


def array_literal(values: Iterable[object]) -> str | list[Any]:
    """Integers or UUIDs as one PostgreSQL array literal ('{1,2,3}', bound as text and cast by the query):
    psycopg adapts a list element by element, a thousand ids cost more to quote than to look up. Anything
    else is returned as a list for psycopg to adapt."""
    values = list(values)
    kinds = set(map(type, values))
    if kinds <= {int, uuid.UUID}:
        return "{" + ",".join(map(str, values)) + "}"
    return values
