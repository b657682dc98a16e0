"""APNs, the inbox hook, key rotation, per-user rate limits, E.164, per-channel attempts, secret purging."""

from __future__ import annotations

import uuid

import pytest
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.utils import timezone

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
from tests.delivery.conftest import add_device, add_provider

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


def test_max_attempts_per_channel(tenant, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "MAX_ATTEMPTS": 5, "MAX_ATTEMPTS_BY_CHANNEL": {"sms": 2}}
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.TRANSIENT, "busy"))
    event_registry.process_event(make_event("user.password.reset.requested", email=None))

    with use_sender(failing):
        for _ in range(3):
            NotificationRecord.objects.exclude(status=Status.FAILED).update(next_attempt_at=timezone.now())
            deliver_until_idle()

    record = NotificationRecord.objects.get(channel="sms")
    assert (record.status, record.attempts, record.reason) == (Status.FAILED, 2, "busy")


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


def test_claims_stay_small_under_light_load_and_grow_with_a_backlog(settings):
    """The loop's claim size: what falls due waits for the claim in progress, so claims are small unless full
    claims in a row show a backlog."""
    from notifications.delivery.worker import DeliveryLoop, DeliveryReport

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "DELIVERY_BATCH_SIZE": 1000}
    loop = DeliveryLoop(poll_seconds=0.01, concurrency=100)
    due = [250, 0, 5000, 0]  # a burst, quiet, a backlog, quiet
    sizes = []

    def deliver_due(size):
        sizes.append(size)
        claimed = min(size, due[0])
        due[0] -= claimed
        if not claimed:
            due.pop(0)
        if not due:
            loop.stopping.set()
        return DeliveryReport(claimed=claimed)

    loop.engine.deliver_due = deliver_due
    loop.run()

    assert sizes == [
        200, 200, 200,  # the burst of 250: one full claim does not grow the next
        200,  # quiet
        200, 200, 200, 400, 800, 1000, 1000, 1000, 1000, 200,  # a backlog: three full claims in a row, doubling
        200,  # quiet again: back to 2 x concurrency
    ]


def test_the_claim_query_can_use_the_partial_due_index(db):
    """record_due_idx indexes open records only; if claim_due()'s status list and the index's condition drifted
    apart, every claim would scan the whole table."""
    from django.db import connection, transaction

    from notifications.delivery.worker import due_records

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL plan")
    query = due_records(timezone.now()).values_list("id", flat=True)[:100]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: make the planner show what it can use
        plan = query.explain()
    assert "record_due_idx" in plan


def test_claims_walk_the_due_index_in_order_never_a_bitmap_of_it(db):
    """Every delivered record leaves dead entries in record_due_idx until vacuum. An ordered index scan marks
    each once and skips it afterwards; a bitmap scan, which the planner picks for a table it has no statistics
    for, visits all their rows on every claim."""
    from django.db import connection, transaction

    from notifications.delivery.worker import CLAIM_PLAN_SETTINGS, claim_statement

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL plan")
    sql, params = claim_statement(1000, timezone.now(), uuid.uuid4())
    with transaction.atomic(), connection.cursor() as cursor:
        # A table as a new deployment's first minute has it: thousands of records sent, a few due, no statistics.
        cursor.execute(
            "INSERT INTO notifications_notificationrecord (tenant_id, event_id, event_type, user_id, channel, "
            "recipient, status, reason, error_detail, provider, provider_message_id, attempts, next_attempt_at, "
            "created_at, updated_at) SELECT 'acme', gen_random_uuid(), 'task.assigned', 'u' || n, 'email', "
            "'u' || n || '@example.com', CASE WHEN n % 200 = 0 THEN 'pending' ELSE 'sent' END, '', '', '', '', 0, "
            "CASE WHEN n % 200 = 0 THEN now() END, now(), now() FROM generate_series(1, 20000) AS n")
        cursor.execute("EXPLAIN " + sql, params)
        unsteered = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(CLAIM_PLAN_SETTINGS)
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using record_due_idx" in plan and "Bitmap" not in plan
    if "Bitmap Index Scan on record_due_idx" not in unsteered:  # server settings (random_page_cost) or statistics
        pytest.skip("this server's planner reads the due index in order by itself here")


def test_the_claim_steers_its_plan_and_leaves_the_callers_settings_alone(tenant):
    """claim_due() issues the plan settings before its UPDATE, in its own transaction; inside a caller's
    transaction (a savepoint, whose release would keep them) it puts the caller's values back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from notifications.delivery.worker import claim_due

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plan settings")
    event_registry.process_event(make_event("task.assigned"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the caller's own choice, kept
        with CaptureQueriesContext(connection) as queries:
            claimed = claim_due(10, timezone.now())
        cursor.execute("SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("on", "off")
    sending = NotificationRecord.objects.filter(status=Status.SENDING).values_list("id", flat=True)
    assert claimed and set(claimed) == set(sending)
    sql = [query["sql"] for query in queries.captured_queries]
    steer = next(i for i, text in enumerate(sql) if "set_config('enable_bitmapscan', 'off', true)" in text)
    update = next(i for i, text in enumerate(sql) if text.startswith("UPDATE"))
    assert steer < update
