"""Secrets at rest (Fernet) and in logs (redaction)."""

from notifications.security.crypto import (
    decrypt_text,
    encrypt_text,
    open_fields,
    seal_fields,
)
from notifications.security.redaction import (
    SENSITIVE_KEYS,
    RedactingFilter,
    redact,
    register_secrets,
)

__all__ = [
    "SENSITIVE_KEYS",
    "RedactingFilter",
    "decrypt_text",
    "encrypt_text",
    "open_fields",
    "redact",
    "register_secrets",
    "seal_fields",
]
