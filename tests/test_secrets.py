"""Secrets (temporary passwords, reset tokens, 2FA codes) never reach logs, listings or plaintext storage."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.db import connection

from notifications.events.models import Event, RejectedEvent
from notifications.intake.service import process_events
from notifications.security import RedactingFilter, decrypt_text, encrypt_text
from notifications.testing import InMemorySender, make_event, use_sender
from notifications.channels.base import Failed, FailureKind
from notifications.enums import Channel

pytestmark = pytest.mark.django_db

SECRETS = {
    "temp_password": "Tmp-Pa55-word-7731",
    "reset_token": "reset-token-5b1c9e0a",
    "code": "472913",
}


def _secret_events() -> list[dict]:
    return [
        make_event("user.registration.completed", temp_password=SECRETS["temp_password"]),
        make_event("user.password.reset.requested", reset_token=SECRETS["reset_token"]),
        make_event("auth.2fa.code.requested", code=SECRETS["code"], method="sms"),
        make_event("auth.2fa.code.requested", code=SECRETS["code"], method="in_app", user_id="u-2"),
    ]


def test_no_secret_in_logs_through_intake_delivery_failure_and_rejection(tenant, deliver, caplog):
    caplog.set_level(logging.DEBUG)
    bad = make_event("user.registration.completed", temp_password=SECRETS["temp_password"], email="broken")
    unknown = make_event("auth.2fa.code.requested", code=SECRETS["code"]) | {"event_type": "auth.2fa.nope"}

    process_events([*_secret_events(), bad, unknown, "{" + json.dumps(SECRETS)])
    process_events(_secret_events())  # duplicates
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.TRANSIENT, "boom", "provider down"))
    with use_sender(failing):
        deliver()

    text = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "event rejected" in text and "delivery" in text  # the logs did speak
    for value in SECRETS.values():
        assert value not in text


def test_secrets_are_encrypted_at_rest(tenant):
    process_events(_secret_events())

    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM notifications_event")
        stored = " ".join(str(row[0]) for row in cursor.fetchall())
    for value in SECRETS.values():
        assert value not in stored
    reset = Event.objects.get(event_type="user.password.reset.requested")
    assert decrypt_text(reset.payload["reset_token"]["$enc"]) == SECRETS["reset_token"]


def test_rejected_events_keep_secrets_only_encrypted(db):
    raw = make_event("auth.2fa.code.requested", code=SECRETS["code"], method="fax")
    process_events([raw, json.dumps(raw)[:-5]])

    for row in RejectedEvent.objects.all():
        assert SECRETS["code"] not in row.original_redacted + row.detail + row.original_encrypted
        assert SECRETS["code"] in decrypt_text(row.original_encrypted)


def test_logging_filter_masks_secret_values_and_fields():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("tests.redaction")
    log.addHandler(handler)
    try:
        process_events_payload = make_event("user.registration.completed", temp_password="Zq9-unique-pw")
        from notifications.security import register_secrets

        register_secrets(["Zq9-unique-pw"])
        log.warning("payload was %s", process_events_payload["payload"])
        log.warning("reset_token=abc123secret and {'code': '998877'}")
    finally:
        log.removeHandler(handler)
    output = stream.getvalue()
    assert "Zq9-unique-pw" not in output and "abc123secret" not in output and "998877" not in output
    assert output.count("[REDACTED]") >= 3


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
