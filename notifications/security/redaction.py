"""Keeps secrets out of logs, listings and error messages.

Two layers: known secret field names are masked wherever a structure is shown (`redact`), and the values of
secrets seen by intake are remembered for a while so the logging filter masks them in any log line."""

from __future__ import annotations

import logging
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

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

_KEY_VALUE = re.compile(
    r"""(?P<key>(?<![A-Za-z0-9_])["']?(?:%s)["']?\s*[:=]\s*)(?P<value>"[^"]*"|'[^']*'|[^\s,;}&]+)"""
    % "|".join(sorted((re.escape(k) for k in SENSITIVE_KEYS), key=len, reverse=True)),
    re.IGNORECASE,
)
_MIN_SECRET_LENGTH = 4


class _RecentSecrets:
    """A bounded, thread-safe set of recently seen secret values."""

    def __init__(self, capacity: int = 20_000) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def add(self, values: Iterable[str]) -> None:
        with self._lock:
            for value in values:
                if len(value) < _MIN_SECRET_LENGTH:
                    continue
                self._values[value] = None
                self._values.move_to_end(value)
            while len(self._values) > self._capacity:
                self._values.popitem(last=False)

    def scrub(self, text: str) -> str:
        with self._lock:
            candidates = [value for value in self._values if value in text]
        for value in sorted(candidates, key=len, reverse=True):
            text = text.replace(value, MASK)
        return text


_recent = _RecentSecrets()


def register_secrets(values: Iterable[Any]) -> None:
    _recent.add(str(value) for value in values if value not in (None, ""))


def redact_text(text: str) -> str:
    text = _KEY_VALUE.sub(lambda m: m.group("key") + MASK, text)
    return _recent.scrub(text)


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
