"""Providers against a local server speaking their APIs (Twilio, Google OAuth2 + FCM v1, Web Push, a webhook):
classification of every answer, retries with Retry-After, failover, circuit breaking, device deactivation."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from notifications.channels.models import Device
from notifications.channels.providers.webhook import verify
from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import DeliveryAttempt, NotificationRecord
from notifications.testing import make_event
from notifications.testing.fake_providers import Reply
from tests.fixtures import add_device, add_provider

pytestmark = pytest.mark.django_db


def twilio(tenant_id, fake, priority=0, **options):
    sid, token = fake.twilio_credentials
    return add_provider(tenant_id, "sms", "twilio", {"base_url": fake.url, "from_number": "+15005550006",
                                                     "timeout": 1, **options},
                        {"account_sid": sid, "auth_token": token}, priority)


def sms_event(**overrides):
    return make_event("user.password.reset.requested", email=None, **overrides)


def the_record(channel="sms"):
    return NotificationRecord.objects.get(channel=channel)


def test_twilio_sends_the_sms(tenant, fake):
    twilio(tenant.id, fake)
    event_registry.process_event(sms_event())

    deliver_until_idle()

    record = the_record()
    assert (record.status, record.provider) == (Status.SENT, "twilio")
    assert record.provider_message_id.startswith("SM")
    [request] = fake.requests["twilio"]
    form = request.form()
    assert (form["To"], form["From"]) == ("+14155550123", "+15005550006")
    assert "reset your password" in form["Body"]
    attempt = DeliveryAttempt.objects.get()
    assert (attempt.outcome, attempt.provider) == ("sent", "twilio")


@pytest.mark.parametrize(
    ("reply", "status", "code"),
    [
        (Reply(400), Status.FAILED, "twilio_21211"),
        (Reply(404), Status.RETRYING, "twilio_20404"),
        (Reply(429, headers={"Retry-After": "120"}), Status.RETRYING, "rate_limited"),
        (Reply(500), Status.RETRYING, "twilio_20500"),
        (Reply(201, body={"sid": "SMok"}, delay=3), Status.RETRYING, "timeout"),
    ],
)
def test_twilio_answers_are_classified(tenant, fake, reply, status, code):
    twilio(tenant.id, fake)
    fake.script("twilio", [reply])
    event_registry.process_event(sms_event())

    deliver_until_idle()

    record = the_record()
    assert (record.status, record.reason) == (status, code)
    if reply.status == 429:
        assert record.next_attempt_at >= timezone.now() + timedelta(seconds=115)


def test_twilio_wrong_credentials_are_retried_not_dropped(tenant, fake):
    add_provider(tenant.id, "sms", "twilio", {"base_url": fake.url, "from_number": "+1500"},
                 {"account_sid": fake.twilio_credentials[0], "auth_token": "wrong"})
    event_registry.process_event(sms_event())

    deliver_until_idle()

    assert (the_record().status, the_record().reason) == (Status.RETRYING, "auth_failed")


def test_transient_failure_is_retried_then_delivered_once(tenant, fake):
    twilio(tenant.id, fake)
    fake.script("twilio", [Reply(503)])
    event_registry.process_event(sms_event())

    deliver_until_idle()
    assert the_record().status == Status.RETRYING
    NotificationRecord.objects.update(next_attempt_at=timezone.now())
    deliver_until_idle()

    record = the_record()
    assert (record.status, record.attempts) == (Status.SENT, 2)
    assert len(fake.requests["twilio"]) == 2
    assert list(DeliveryAttempt.objects.values_list("outcome", flat=True)) == ["transient", "sent"]


def test_failover_to_the_next_provider_on_a_transient_failure(tenant, fake):
    twilio(tenant.id, fake, priority=0)
    add_provider(tenant.id, "sms", "webhook", {"url": f"{fake.url}/webhook"}, {"secret": "hook-secret"}, priority=1)
    fake.script("twilio", [Reply(500)])
    event_registry.process_event(sms_event())

    deliver_until_idle()

    record = the_record()
    assert (record.status, record.provider) == (Status.SENT, "webhook")
    assert [(a.provider, a.outcome) for a in DeliveryAttempt.objects.all()] == [
        ("twilio", "transient"), ("webhook", "sent")]
    [hook] = fake.requests["webhook"]
    assert verify("hook-secret", hook.headers["X-Notifications-Signature"], hook.body)
    assert not verify("other-secret", hook.headers["X-Notifications-Signature"], hook.body)
    assert hook.json()["to"] == "+14155550123"


def test_permanent_failure_does_not_fail_over(tenant, fake):
    twilio(tenant.id, fake, priority=0)
    add_provider(tenant.id, "sms", "webhook", {"url": f"{fake.url}/webhook"}, priority=1)
    fake.script("twilio", [Reply(400)])
    event_registry.process_event(sms_event())

    deliver_until_idle()

    assert the_record().status == Status.FAILED
    assert fake.requests["webhook"] == []


def test_open_circuit_skips_a_failing_provider(tenant, fake):
    twilio(tenant.id, fake, priority=0)
    add_provider(tenant.id, "sms", "webhook", {"url": f"{fake.url}/webhook"}, priority=1)
    fake.script("twilio", [Reply(500)] * 5)
    for n in range(5):
        event_registry.process_event(sms_event(user_id=f"user-{n}"))
    deliver_until_idle()
    for n in range(5, 8):
        event_registry.process_event(sms_event(user_id=f"user-{n}"))
    deliver_until_idle()

    assert set(NotificationRecord.objects.filter(channel="sms").values_list("status", flat=True)) == {Status.SENT}
    assert len(fake.requests["twilio"]) == 5  # after five failures in a row twilio was not asked again
    assert len(fake.requests["webhook"]) == 8


def test_provider_rate_limit_spaces_the_sends(tenant, fake):
    add_provider(tenant.id, "sms", "webhook", {"url": f"{fake.url}/webhook", "rate_per_second": 10})
    for n in range(15):
        event_registry.process_event(sms_event(user_id=f"user-{n}"))

    started = time.monotonic()
    deliver_until_idle()

    assert len(fake.requests["webhook"]) == 15
    assert time.monotonic() - started >= 0.45  # a burst of 10, then 5 more at 10 per second


def test_fcm_v1_with_service_account_oauth(tenant, fake, service_account):
    add_provider(tenant.id, "push", "fcm", {"base_url": fake.url}, service_account)
    add_device(tenant.id, "u-2", "fcm", "fcm-registration-token")
    event_registry.process_event(make_event("task.assigned", user_id="u-2"))

    deliver_until_idle()

    record = the_record("push")
    assert record.status == Status.SENT and record.provider_message_id.startswith("projects/demo-project/")
    [token_request] = fake.requests["oauth"]
    assert token_request.form()["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    [send] = fake.requests["fcm"]
    body = send.json()["message"]
    assert body["token"] == "fcm-registration-token"
    assert body["notification"]["title"] == "New task assigned"


@pytest.mark.parametrize(
    ("reply", "status", "code", "device_active"),
    [
        (Reply(404), Status.FAILED, "unregistered", False),  # FCM says UNREGISTERED
        (Reply(400), Status.FAILED, "invalid_argument", True),
        (Reply(429, headers={"Retry-After": "30"}), Status.RETRYING, "quota_exceeded", True),
        (Reply(500), Status.RETRYING, "http_500", True),
        (Reply(503), Status.RETRYING, "http_503", True),
        (Reply(401), Status.RETRYING, "auth_failed", True),
        (Reply(200, delay=3), Status.RETRYING, "timeout", True),
    ],
)
def test_fcm_answers_are_classified(tenant, fake, service_account, reply, status, code, device_active):
    add_provider(tenant.id, "push", "fcm", {"base_url": fake.url, "timeout": 1}, service_account)
    device = add_device(tenant.id, "u-2", "fcm", "tok-2")
    fake.script("fcm", [reply])
    event_registry.process_event(make_event("task.assigned", user_id="u-2"))

    deliver_until_idle()

    record = the_record("push")
    assert (record.status, record.reason) == (status, code)
    device.refresh_from_db()
    assert device.active is device_active


def test_a_gone_device_gets_no_more_pushes(tenant, fake, service_account):
    add_provider(tenant.id, "push", "fcm", {"base_url": fake.url}, service_account)
    add_device(tenant.id, "u-2", "fcm", "stale-token")
    fake.script("fcm", [Reply(404)])
    event_registry.process_event(make_event("task.assigned", user_id="u-2"))
    deliver_until_idle()

    result = event_registry.process_event(make_event("task.assigned", user_id="u-2", task_id="T-2"))

    [push] = [r for r in result.records if r.channel == "push"]
    assert (push.status, push.reason) == ("skipped", "no_address")
    assert Device.objects.get(token="stale-token").deactivated_reason == "unregistered"


def test_web_push_with_vapid(tenant, fake, web_subscription, vapid_key):
    add_provider(tenant.id, "push", "webpush", {"vapid_subject": "mailto:ops@acme.example.com"},
                 {"vapid_private_key": vapid_key})
    add_device(tenant.id, "u-3", "webpush", web_subscription["endpoint"], web_subscription)
    event_registry.process_event(make_event("content.liked", user_id="u-3"))

    deliver_until_idle()

    assert the_record("push").status == Status.SENT
    [request] = fake.requests["webpush"]
    assert request.headers["Authorization"].startswith("vapid t=")
    assert request.headers["Content-Encoding"] == "aes128gcm"
    assert b"Jane Smith" not in request.body  # the payload is encrypted for the browser


@pytest.mark.parametrize(
    ("reply", "status", "code", "device_active"),
    [
        (Reply(410), Status.FAILED, "subscription_gone", False),
        (Reply(404), Status.FAILED, "subscription_gone", False),
        (Reply(413), Status.FAILED, "payload_too_large", True),
        (Reply(429, headers={"Retry-After": "10"}), Status.RETRYING, "rate_limited", True),
        (Reply(502), Status.RETRYING, "http_502", True),
    ],
)
def test_web_push_answers_are_classified(tenant, fake, web_subscription, vapid_key, reply, status, code,
                                         device_active):
    add_provider(tenant.id, "push", "webpush", {}, {"vapid_private_key": vapid_key})
    device = add_device(tenant.id, "u-3", "webpush", web_subscription["endpoint"], web_subscription)
    fake.script("webpush", [reply])
    event_registry.process_event(make_event("content.liked", user_id="u-3"))

    deliver_until_idle()

    record = the_record("push")
    assert (record.status, record.reason) == (status, code)
    device.refresh_from_db()
    assert device.active is device_active


def test_push_goes_to_each_device_through_the_provider_for_its_platform(tenant, fake, service_account,
                                                                        web_subscription, vapid_key):
    add_provider(tenant.id, "push", "fcm", {"base_url": fake.url}, service_account)
    add_provider(tenant.id, "push", "webpush", {}, {"vapid_private_key": vapid_key}, priority=1)
    add_device(tenant.id, "u-4", "fcm", "android-token")
    add_device(tenant.id, "u-4", "webpush", web_subscription["endpoint"], web_subscription)

    result = event_registry.process_event(make_event("comment.mentioned", user_id="u-4"))
    deliver_until_idle()

    assert len([r for r in result.records if r.channel == "push"]) == 2
    assert dict(NotificationRecord.objects.filter(channel="push").values_list("provider", "status")) == {
        "fcm": "sent", "webpush": "sent"}


def test_provider_credentials_are_encrypted_at_rest_and_masked(tenant, fake, capsys):
    from django.core.management import call_command
    from django.db import connection

    row = twilio(tenant.id, fake)
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials_encrypted FROM notifications_providerconfig")
        stored = cursor.fetchone()[0]
    assert "twilio-auth-token" not in stored
    assert row.credentials["auth_token"] == "twilio-auth-token"

    call_command("providers", "list")
    out = capsys.readouterr().out
    assert "twilio" in out and "********" in out and "twilio-auth-token" not in out


def test_retry_failed_requeues_failed_records(tenant, fake, capsys):
    from django.core.management import call_command

    twilio(tenant.id, fake)
    fake.script("twilio", [Reply(400)])
    event_registry.process_event(sms_event())
    deliver_until_idle()
    assert the_record().status == Status.FAILED

    call_command("retry_failed", "--tenant-id", tenant.id, "--channel", "sms")
    assert "1 failed record(s) requeued" in capsys.readouterr().out
    deliver_until_idle()
    # The reset token was purged when the record failed: a stale secret is not sent again.
    assert (the_record().status, the_record().reason) == (Status.FAILED, "secret_purged")
    assert the_record().event.payload["reset_token"] == {"$purged": True}
