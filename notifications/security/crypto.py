"""Fernet encryption for secrets kept at rest. Keys come from NOTIFICATIONS['ENCRYPTION_KEYS'] (newest first,
so rotation is: prepend the new key, keep the old ones until re-encrypted)."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from notifications.conf import get_setting
from notifications.errors import NotificationConfigurationError

ENCRYPTED_MARKER = "$enc"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...], secret_key: str) -> MultiFernet:
    if not keys:
        derived = base64.urlsafe_b64encode(hashlib.sha256(f"notifications:{secret_key}".encode()).digest())
        keys = (derived.decode(),)
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as err:
        raise NotificationConfigurationError(
            "NOTIFICATIONS_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(generate one with: python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from err


def fernet() -> MultiFernet:
    return _fernet(tuple(get_setting("ENCRYPTION_KEYS", [])), settings.SECRET_KEY)


def encrypt_text(value: str) -> str:
    return fernet().encrypt(value.encode()).decode()


def decrypt_text(token: str) -> str:
    try:
        return fernet().decrypt(token.encode()).decode()
    except InvalidToken as err:
        raise NotificationConfigurationError(
            "An encrypted value cannot be decrypted with the configured NOTIFICATIONS_ENCRYPTION_KEYS"
        ) from err


def seal_fields(payload: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    """A copy of payload whose sensitive values are encrypted, for storing."""
    sealed = dict(payload)
    for key in fields:
        value = sealed.get(key)
        if value not in (None, ""):
            sealed[key] = {ENCRYPTED_MARKER: encrypt_text(str(value))}
    return sealed


def open_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The inverse of seal_fields. Raises SecretPurged when a secret was purged after final delivery."""
    opened = dict(payload)
    for key, value in payload.items():
        if isinstance(value, dict) and set(value) == {ENCRYPTED_MARKER}:
            opened[key] = decrypt_text(value[ENCRYPTED_MARKER])
        elif isinstance(value, dict) and set(value) == {"$purged"}:
            from notifications.delivery.secrets import SecretPurged

            raise SecretPurged("a secret of this event was purged after its notifications were final", field=key)
    return opened
