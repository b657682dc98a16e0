"""Encryption for secrets kept at rest. Keys come from NOTIFICATIONS['ENCRYPTION_KEYS'] (Fernet-format keys,
newest first, so rotation is: prepend the new key, run rotate_encryption_keys, then drop the old ones).

Values are sealed with AES-256-SIV (RFC 5297) under a key derived from the configured one by HKDF-SHA256:
"s1." + base64url(key id (4 bytes) + nonce (16 random bytes) + SIV + ciphertext of 0x01 + value). SIV stays
safe if a random nonce ever repeats (it then only shows that two values are equal), so one key can seal
billions of values, and sealing or opening is one call into OpenSSL: about 4 us, against 26 us for a Fernet
token, which mattered at thousands of secrets a second (bench/README.md). Fernet tokens written by earlier
versions are still opened, and rotate_encryption_keys rewrites them. NOTIFICATIONS_ENCRYPTION_FORMAT=fernet
keeps sealing Fernet tokens during a rolling upgrade from a version that reads nothing else."""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

from notifications.conf import get_setting
from notifications.errors import NotificationConfigurationError, SecretPurged

ENCRYPTED_MARKER = "$enc"
SEALED_PREFIX = "s1."
_LABEL = b"notifications secrets at rest"


@dataclass(frozen=True)
class Keyring:
    newest: tuple[bytes, AESSIV]  # (key id, cipher)
    by_id: dict[bytes, AESSIV]
    legacy: MultiFernet  # opens Fernet tokens written before SIV
    seals_fernet: bool  # NOTIFICATIONS_ENCRYPTION_FORMAT=fernet


@lru_cache(maxsize=4)
def _keyring(keys: tuple[str, ...], secret_key: str, seal_format: str) -> Keyring:
    if not keys:
        derived = base64.urlsafe_b64encode(hashlib.sha256(f"notifications:{secret_key}".encode()).digest())
        keys = (derived.decode(),)
    try:
        legacy = MultiFernet([Fernet(key) for key in keys])
    except (ValueError, TypeError) as err:
        raise NotificationConfigurationError(
            "NOTIFICATIONS_ENCRYPTION_KEYS holds a value that is not a Fernet key "
            "(generate one with: python -c "
            "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')"
        ) from err
    ciphers = []
    for key in keys:
        material = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_LABEL).derive(
            base64.urlsafe_b64decode(key))
        ciphers.append((hashlib.sha256(material).digest()[:4], AESSIV(material)))
    return Keyring(ciphers[0], dict(reversed(ciphers)), legacy, seal_format == "fernet")


def keyring() -> Keyring:
    return _keyring(tuple(get_setting("ENCRYPTION_KEYS", [])), settings.SECRET_KEY,
                    get_setting("ENCRYPTION_FORMAT", "aes-siv"))


def encrypt_text(value: str, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    if ring.seals_fernet:
        # For a rolling upgrade from a version that reads only Fernet: set NOTIFICATIONS_ENCRYPTION_FORMAT=fernet
        # until no older process runs, then drop it (and run rotate_encryption_keys to reseal as SIV).
        return ring.legacy.encrypt(value.encode()).decode()
    key_id, cipher = ring.newest
    nonce = os.urandom(16)
    # One leading format byte: SIV refuses empty plaintext in some cryptography releases, and an empty value
    # (a blank rejected original) must seal like any other.
    sealed = cipher.encrypt(b"\x01" + value.encode(), [_LABEL, key_id, nonce])
    return SEALED_PREFIX + base64.urlsafe_b64encode(key_id + nonce + sealed).decode()


def decrypt_text(token: str, ring: Keyring | None = None) -> str:
    ring = ring or keyring()
    try:
        if not token.startswith(SEALED_PREFIX):
            return ring.legacy.decrypt(token.encode()).decode()
        raw = base64.urlsafe_b64decode(token[len(SEALED_PREFIX):])
        key_id, nonce = raw[:4], raw[4:20]
        cipher = ring.by_id.get(key_id)
        if cipher is None:
            raise InvalidTag
        opened = cipher.decrypt(raw[20:], [_LABEL, key_id, nonce])
        if opened[:1] != b"\x01":
            raise InvalidTag
        return opened[1:].decode()
    except (InvalidToken, InvalidTag, ValueError) as err:
        raise NotificationConfigurationError(
            "An encrypted value cannot be decrypted with the configured NOTIFICATIONS_ENCRYPTION_KEYS"
        ) from err


def rotate_text(token: str) -> str:
    """The value sealed again under the newest key (and as SIV if it was a Fernet token)."""
    return encrypt_text(decrypt_text(token))


def seal_fields(payload: dict[str, Any], fields: frozenset[str], ring: Keyring | None = None) -> dict[str, Any]:
    """A copy of payload whose sensitive values are encrypted, for storing. A batch passes its `ring`, looked
    up once (the look-up reads three settings)."""
    sealed = dict(payload)
    for key in fields:
        value = sealed.get(key)
        if value not in (None, ""):
            ring = ring or keyring()
            sealed[key] = {ENCRYPTED_MARKER: encrypt_text(str(value), ring)}
    return sealed


def open_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """The inverse of seal_fields. Raises SecretPurged when a secret was purged after final delivery."""
    opened = dict(payload)
    ring = None
    for key, value in payload.items():
        if isinstance(value, dict) and set(value) == {ENCRYPTED_MARKER}:
            ring = ring or keyring()
            opened[key] = decrypt_text(value[ENCRYPTED_MARKER], ring)
        elif isinstance(value, dict) and set(value) == {"$purged"}:
            raise SecretPurged("a secret of this event was purged after its notifications were final", field=key)
    return opened
