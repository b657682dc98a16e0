"""Regression tests for problems found in review: each would have been a security or delivery bug."""

from __future__ import annotations

import json
from datetime import timedelta

import jwt
import pytest
from django.core.management import call_command
from django.utils import timezone

from notifications.api.auth import verify_inbox_token
from notifications.channels.models import Device, InAppMessage
from notifications.delivery.worker import deliver_until_idle
from notifications.enums import Status
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.testing import make_event
from notifications.testing.fake_providers import Reply
from tests.fixtures import INBOX_SECRET, add_device, add_provider, inbox_token

pytestmark = pytest.mark.django_db


def test_a_string_event_cannot_smuggle_another_tenant(api_a):
    smuggled = json.dumps(make_event("task.assigned", "globex"))
    assert api_a.post("/events", json.dumps(smuggled)).status_code == 422  # a JSON string literal
    assert api_a.post("/events", [smuggled]).status_code == 422
    assert not Event.objects.filter(tenant_id="globex").exists()


def test_a_tenant_with_its_own_inbox_key_refuses_tokens_signed_with_others(tenant, settings, capsys):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "INBOX_JWT_SECRET": INBOX_SECRET, "INBOX_DEMO": False}
    call_command("set_inbox_key", "--tenant-id", "acme", "--generate")
    own = capsys.readouterr().out.strip()

    assert verify_inbox_token(inbox_token("acme", secret=INBOX_SECRET)) is None  # the shared key no longer works
    user = verify_inbox_token(inbox_token("acme", secret=own))
    assert (user.tenant_id, user.user_id) == ("acme", "u-1")
    assert verify_inbox_token(inbox_token("other", secret=INBOX_SECRET)) is not None  # no own key: shared one
    unsigned = jwt.encode({"sub": "u-1", "tenant_id": "acme", "exp": 9_999_999_999}, None, algorithm="none")
    assert verify_inbox_token(unsigned) is None
    assert "secret_encrypted" not in json.dumps(tenant.__class__.objects.get(id="acme").settings).replace(
        "secret_encrypted", "") and own not in json.dumps(tenant.__class__.objects.get(id="acme").settings)


@pytest.mark.parametrize("retry_after", ["inf", "1e12", "nan", "Wed, 21 Oct 9999 07:28:00 GMT", "-5"])
def test_absurd_retry_after_cannot_break_a_batch(tenant, fake, retry_after):
    add_provider(tenant.id, "sms", "webhook", {"url": f"{fake.url}/webhook"})
    fake.script("webhook", [Reply(429, headers={"Retry-After": retry_after})])
    event_registry.process_event(make_event("user.password.reset.requested", email=None))
    event_registry.process_event(make_event("user.password.reset.requested", email=None, user_id="u-2"))

    deliver_until_idle()

    statuses = sorted(NotificationRecord.objects.filter(channel="sms").values_list("status", flat=True))
    assert statuses == ["retrying", "sent"]
    retrying = NotificationRecord.objects.get(channel="sms", status="retrying")
    assert retrying.next_attempt_at <= timezone.now() + timedelta(hours=25)


def test_web_push_403_deactivates_the_device(tenant, fake, web_subscription, vapid_key):
    add_provider(tenant.id, "push", "webpush", {}, {"vapid_private_key": vapid_key})
    device = add_device(tenant.id, "u-3", "webpush", web_subscription["endpoint"], web_subscription)
    fake.script("webpush", [Reply(403)])
    event_registry.process_event(make_event("content.liked", user_id="u-3"))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="push")
    assert (record.status, record.reason) == (Status.FAILED, "vapid_mismatch")
    device.refresh_from_db()
    assert not device.active


def test_fcm_token_endpoint_failure_is_transient(tenant, fake, service_account):
    service_account["token_uri"] = f"{fake.url}/nowhere"  # answers 404 HTML
    add_provider(tenant.id, "push", "fcm", {"base_url": fake.url}, service_account)
    add_device(tenant.id, "u-2", "fcm", "tok")
    event_registry.process_event(make_event("task.assigned", user_id="u-2"))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="push")
    assert (record.status, record.reason) == (Status.RETRYING, "auth_failed")


def test_django_smtp_auth_failure_is_transient():
    import smtplib

    from notifications.channels.providers.django_email import classify_smtp_error

    result = classify_smtp_error(smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"))
    assert (result.kind, result.code) == ("transient", "auth_failed")


def test_rate_limit_counts_a_notification_once_however_many_devices(tenant):
    Device.objects.create(tenant=tenant, user_id="u-1", platform="fcm", token="second-phone")
    tenant.settings = {"rate_limits": {"content.liked": {"push": {"limit": 2, "per_seconds": 3600}}}}
    tenant.save()

    results = [event_registry.process_event(make_event("content.liked", content_id=f"P-{n}")) for n in range(3)]

    per_event = [[r.status for r in result.records if r.channel == "push"] for result in results]
    assert per_event == [["pending", "pending"], ["pending", "pending"], ["skipped", "skipped"]]


def test_security_alerts_are_never_rate_limited(tenant):
    tenant.settings = {"rate_limits": {"user.login.failed": {"*": {"limit": 1, "per_seconds": 3600}}}}
    tenant.save()

    results = [event_registry.process_event(make_event("user.login.failed", attempt_count=n)) for n in range(1, 4)]

    assert all(r.reason != "rate_limited" for result in results for r in result.records)


def test_in_app_records_are_not_requeued_into_limbo(api_a):
    from notifications.events.base_handler import BaseEventHandler  # noqa: F401

    result = api_a.post("/events", make_event("task.assigned")).json()["results"][0]
    in_app = next(r for r in result["records"] if r["channel"] == "in_app")
    NotificationRecord.objects.filter(pk=in_app["id"]).update(status="failed")

    assert api_a.post(f"/records/{in_app['id']}/retry").status_code == 409
    assert NotificationRecord.objects.get(pk=in_app["id"]).status == "failed"


def test_secrets_are_purged_at_intake_when_nothing_is_left_to_send(tenant):
    event_registry.process_event(make_event("auth.2fa.code.requested", method="in_app"))

    assert Event.objects.get().payload["code"] == {"$purged": True}
    assert "839201" in InAppMessage.objects.get().body  # delivered before the purge


def test_outside_development_unconfigured_sms_waits_instead_of_going_to_a_log(tenant, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "DEV_PROVIDERS": False}
    from notifications.delivery.worker import reset_default_engine

    reset_default_engine()
    event_registry.process_event(make_event("user.password.reset.requested", email=None))

    deliver_until_idle()

    record = NotificationRecord.objects.get(channel="sms")
    assert (record.status, record.reason) == (Status.RETRYING, "no_provider")
    reset_default_engine()
