"""APNs, the inbox hook, key rotation, per-user rate limits, E.164, per-channel attempts, secret purging."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command

from notifications.channels.base import Failed, FailureKind
from notifications.channels.inbox import inbox_messages_created
from notifications.channels.models import ProviderConfig
from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Channel, SkipReason, Status
from notifications.events.registry import event_registry
from notifications.models import Contact, Event, NotificationRecord
from notifications.security import decrypt_text
from notifications.testing import InMemorySender, make_event, use_sender
from notifications.testing.fake_providers import Reply
from tests.fixtures import add_device, add_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def apns(tenant, fake):
    key = ec.generate_private_key(ec.SECP256R1())
    fake.apns_public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    add_provider(tenant.id, "push", "apns", {"base_url": fake.url, "topic": "com.acme.app"},
                 {"team_id": "TEAM123", "key_id": "KEY123", "private_key": pem})
    return add_device(tenant.id, "u-5", "apns", "a" * 64)


def test_apns_token_auth(tenant, fake, apns):
    event_registry.process_event(make_event("task.assigned", user_id="u-5"))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="push")
    assert (record.status, record.provider) == (Status.SENT, "apns")
    [request] = fake.requests["apns"]
    assert request.path == f"/3/device/{'a' * 64}"
    assert request.headers["apns-topic"] == "com.acme.app"
    assert request.json()["aps"]["alert"]["title"] == "New task assigned"


@pytest.mark.parametrize(("reply", "status", "code", "active"), [
    (Reply(410, body={"reason": "Unregistered"}), Status.FAILED, "unregistered", False),
    (Reply(400, body={"reason": "BadDeviceToken"}), Status.FAILED, "unregistered", False),
    (Reply(429, body={"reason": "TooManyRequests"}, headers={"Retry-After": "5"}), Status.RETRYING,
     "rate_limited", True),
    (Reply(503, body={"reason": "ServiceUnavailable"}), Status.RETRYING, "http_503", True),
])
def test_apns_answers_are_classified(tenant, fake, apns, reply, status, code, active):
    fake.script("apns", [reply])
    event_registry.process_event(make_event("task.assigned", user_id="u-5"))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="push")
    assert (record.status, record.reason) == (status, code)
    apns.refresh_from_db()
    assert apns.active is active


@pytest.mark.django_db(transaction=True)
def test_inbox_hook_fires_after_commit(tenant):
    seen = []

    def receiver(sender, groups, **kwargs):
        seen.extend(groups)

    inbox_messages_created.connect(receiver)
    try:
        event_registry.process_event(make_event("task.assigned"))
    finally:
        inbox_messages_created.disconnect(receiver)

    [(tenant_id, user_id, ids)] = seen
    assert (tenant_id, user_id, len(ids)) == ("acme", "u-1", 1)


def test_rotate_encryption_keys(tenant, settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [old]}
    row = add_provider(tenant.id, "sms", "webhook", {"url": "http://127.0.0.1:9/x"}, {"secret": "hook"})
    event_registry.process_event(make_event("user.password.reset.requested"))

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [new, old]}
    call_command("rotate_encryption_keys")
    assert "providers=1, events=1" in capsys.readouterr().out

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [new]}  # old key retired
    assert ProviderConfig.objects.get(pk=row.pk).credentials == {"secret": "hook"}
    token = Event.objects.get().payload["reset_token"]["$enc"]
    assert decrypt_text(token) == "rst-tok-9f8e7d"


def test_per_user_rate_limit_skips_the_excess_but_never_security_codes(tenant):
    tenant.settings = {"rate_limits": {
        "content.liked": {"push": {"limit": 2, "per_seconds": 3600}},
        "auth.2fa.code.requested": {"*": {"limit": 1, "per_seconds": 3600}},
    }}
    tenant.save()

    likes = [event_registry.process_event(make_event("content.liked", content_id=f"P-{n}")) for n in range(4)]
    codes = [event_registry.process_event(make_event("auth.2fa.code.requested", code=f"00000{n}")) for n in range(3)]

    push = [next(r for r in result.records if r.channel == "push") for result in likes]
    assert [(r.status, r.reason) for r in push] == [
        ("pending", ""), ("pending", ""), ("skipped", SkipReason.RATE_LIMITED), ("skipped", SkipReason.RATE_LIMITED)]
    assert all(r.status == "sent" for result in likes for r in result.records if r.channel == "in_app")
    assert [r.status for result in codes for r in result.records] == ["pending"] * 3


def test_rate_limit_applies_within_one_batch(tenant):
    from notifications.intake.service import process_events

    tenant.settings = {"rate_limits": {"content.liked": {"*": {"limit": 1, "per_seconds": 60}}}}
    tenant.save()

    results = process_events([make_event("content.liked", content_id=f"P-{n}") for n in range(3)])

    statuses = [r.status for result in results for r in result.records if r.channel == "in_app"]
    assert statuses == ["sent", "skipped", "skipped"]


def test_sms_needs_an_e164_number(tenant):
    Contact.objects.create(tenant=tenant, user_id="u-7", phone="0151 2345678")

    result = event_registry.process_event(make_event("user.login.failed", user_id="u-7", phone=None))

    [sms] = [r for r in result.records if r.channel == "sms"]
    assert (sms.status, sms.reason) == ("skipped", SkipReason.INVALID_ADDRESS)


def test_secrets_are_purged_once_every_record_is_final(tenant):
    event_registry.process_event(make_event("user.password.reset.requested"))
    assert "$enc" in Event.objects.get().payload["reset_token"]

    deliver_until_idle()

    assert Event.objects.get().payload["reset_token"] == {"$purged": True}
    assert set(NotificationRecord.objects.values_list("status", flat=True)) == {"sent"}


def test_secrets_stay_while_a_record_is_pending(tenant):
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.TRANSIENT, "busy"))
    event_registry.process_event(make_event("user.password.reset.requested"))

    with use_sender(failing):
        deliver_until_idle()

    assert "$enc" in Event.objects.get().payload["reset_token"]  # the SMS will be retried and needs it

