"""Keeps secrets out of logs, listings and error messages.

Two layers: known secret field names are masked wherever a structure is shown (`redact`), and the values of
secrets seen by intake are remembered for a while so the logging filter masks them in any log line."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from typing import Any

from notifications.security.recent_secrets import RecentSecrets

MASK = "[REDACTED]"

SENSITIVE_KEYS: frozenset[str] = frozenset(
    {
        "password",
        "temp_password",
        "temporary_password",
        "reset_token",
        "reset_link",
        "token",
        "code",
        "otp",
        "verification_code",
        "secret",
        "api_key",
        "auth_token",
        "access_token",
        "refresh_token",
        "private_key",
    }
)

_KEY_NAMES = "|".join(sorted((re.escape(k) for k in SENSITIVE_KEYS), key=len, reverse=True))
_KEY_VALUE = re.compile(
    r"""(?P<key>(?<![A-Za-z0-9_])["']?(?:""" + _KEY_NAMES + r""")["']?\s*[:=]\s*)"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^\s,;}&]+)""",
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH = 4


def _scrub(text: str) -> str:
    """Every remembered value occurring in the text masked (overlapping occurrences under one mask)."""
    spans = _recent.spans(text)
    if not spans:
        return text
    parts: list[str] = []
    last = 0
    for start, end in spans:
        parts += (text[last:start], MASK)
        last = end
    parts.append(text[last:])
    return "".join(parts)


_recent = RecentSecrets(min_length=_MIN_SECRET_LENGTH)


def register_secrets(values: Iterable[Any]) -> None:
    _recent.add(str(value) for value in values if value not in (None, ""))


def redact_text(text: str) -> str:
    text = _KEY_VALUE.sub(lambda m: m.group("key") + MASK, text)
    return _scrub(text)


def redact(value: Any, sensitive: frozenset[str] = SENSITIVE_KEYS) -> Any:
    """A copy of a JSON-like structure with sensitive keys masked, for storing or showing."""
    if isinstance(value, dict):
        return {
            key: (MASK if str(key).lower() in sensitive and val not in (None, "") else redact(val, sensitive))
            for key, val in value.items()
        }
    if isinstance(value, list):
        return [redact(item, sensitive) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


class RedactingFilter(logging.Filter):
    """Masks secrets in the formatted message (and exception text) of every record passing a handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


def read_json_leniently(text: str) -> Any:
    """The JSON value of a text that strict readers refuse (NaN, Infinity, numbers beyond a double, repeated
    keys: Python's json reads them, the last repeated key winning), so a refused event's secrets can still be
    masked by their key; None when it is not JSON at all. For redacting only, never for taking an event in."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def redact_serialized(text: str, sensitive: frozenset[str] = SENSITIVE_KEYS) -> str:
    """A stored or copied event's text with its secrets masked: by key when it reads as JSON (even leniently; a
    key spelled with escapes is read as the key it is), else by `key=value` patterns; remembered secrets in
    either case."""
    parsed = read_json_leniently(text)
    if isinstance(parsed, (dict, list)):
        try:
            return json.dumps(redact(parsed, sensitive), default=str)
        except (ValueError, RecursionError, TypeError):
            pass
    return redact_text(text)
