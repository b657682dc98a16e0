"""APNs: token authentication (an ES256 JWT the fake server verifies) and how its answers are classified."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import make_event
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
