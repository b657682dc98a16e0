"""Sealed values: AES-SIV under the newest key, key rotation, Fernet tokens of earlier versions, tampering refused."""

from __future__ import annotations

import io

import pytest

from notifications.events.models import Event
from notifications.security import decrypt_text, encrypt_text

pytestmark = pytest.mark.django_db


def test_encryption_round_trip_and_rotation(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [old]}
    token = encrypt_text("s3cret")
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [new, old]}
    assert decrypt_text(token) == "s3cret"
    assert "s3cret" not in token


def test_sealed_values_are_aes_siv_under_the_newest_key_and_refuse_tampering(settings):
    from cryptography.fernet import Fernet

    from notifications.errors import NotificationConfigurationError
    from notifications.security.crypto import SEALED_PREFIX

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [new, old]}
    first, second = encrypt_text("472913"), encrypt_text("472913")
    assert first.startswith(SEALED_PREFIX) and first != second  # a fresh nonce each time
    assert decrypt_text(first) == decrypt_text(second) == "472913"
    import base64

    raw = bytearray(base64.urlsafe_b64decode(first[len(SEALED_PREFIX):]))
    raw[-2] ^= 0x01  # one flipped bit of the ciphertext (a flipped base64 character can land in padding bits)
    with pytest.raises(NotificationConfigurationError):
        decrypt_text(SEALED_PREFIX + base64.urlsafe_b64encode(bytes(raw)).decode())
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [old]}  # the sealing key removed
    with pytest.raises(NotificationConfigurationError):
        decrypt_text(first)


def test_fernet_tokens_from_earlier_versions_open_and_rotation_rewrites_them(settings, tenant):
    from cryptography.fernet import Fernet
    from django.core.management import call_command
    from django.utils import timezone

    from notifications.channels.models import ProviderConfig
    from notifications.security.crypto import ENCRYPTED_MARKER, SEALED_PREFIX

    key = Fernet.generate_key().decode()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [key]}
    legacy = Fernet(key).encrypt(b"reset-token-5b1c9e0a").decode()
    assert decrypt_text(legacy) == "reset-token-5b1c9e0a"
    event = Event.objects.create(tenant_id=tenant.pk, event_id="legacy-1", event_type="user.password.reset.requested",
                                 dedupe_key="legacy-1", occurred_at=timezone.now(),
                                 payload={"reset_token": {ENCRYPTED_MARKER: legacy}})
    config = ProviderConfig.objects.create(tenant_id=tenant.pk, channel="sms", provider="webhook",
                                           credentials_encrypted=Fernet(key).encrypt(b'{"secret": "w"}').decode())
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    event.refresh_from_db()
    config.refresh_from_db()
    rewritten = event.payload["reset_token"][ENCRYPTED_MARKER]
    assert rewritten.startswith(SEALED_PREFIX) and decrypt_text(rewritten) == "reset-token-5b1c9e0a"
    assert config.credentials_encrypted.startswith(SEALED_PREFIX) and config.credentials == {"secret": "w"}


def test_an_empty_value_seals_and_the_fernet_format_can_be_kept_for_a_rolling_upgrade(settings):
    from cryptography.fernet import Fernet

    from notifications.security.crypto import SEALED_PREFIX

    key = Fernet.generate_key().decode()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [key]}
    assert decrypt_text(encrypt_text("")) == ""
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_FORMAT": "fernet"}
    token = encrypt_text("472913")
    assert not token.startswith(SEALED_PREFIX)
    assert Fernet(key).decrypt(token.encode()) == b"472913"  # what a version reading only Fernet can open
