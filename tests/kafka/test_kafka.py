"""The Kafka path against a real broker: publish_event -> consumer -> records; consumer groups; crashes;
dead letters; graceful stop; lag."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer
from django.core.management import call_command
from django.db.utils import OperationalError

from notifications.enums import RejectionReason
from notifications.events.models import RejectedEvent
from notifications.kafka.admin import ensure_topics, group_lag
from notifications.kafka.consumer import BatchConsumer
from notifications.models import Event, NotificationRecord
from notifications.testing import EXAMPLE_PAYLOADS, make_event
from notifications.utils.kafka_producer import publish_event, publish_event_sync
from tests.kafka.conftest import consumer_process, unique

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]

CHANNELS_PER_TYPE = {
    "user.registration.completed": 2, "user.password.reset.requested": 2, "user.login.succeeded": 1,
    "user.login.failed": 3, "invoice.payment.failed": 3, "task.assigned": 3, "comment.mentioned": 3,
    "content.liked": 2, "auth.2fa.code.requested": 1, "auth.2fa.attempt.failed": 3, "auth.2fa.method.changed": 3,
    "invoice.payment.succeeded": 2, "notification.cancel": 0,
}
TYPES = sorted(CHANNELS_PER_TYPE)


def run_until(consumer: BatchConsumer, done: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    consumer.run(stop_when=lambda c: done() or time.monotonic() > deadline)


def produce_raw(bootstrap: str, topic: str, values: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20})
    for key, value in values:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0


def numbered_events(tenant: str, count: int) -> list[tuple[bytes, bytes]]:
    events = []
    for i in range(count):
        event = make_event(TYPES[i % len(TYPES)], tenant, user_id=f"user-{i % 97}") | {"event_id": f"e-{i}"}
        events.append((f"{tenant}:user-{i % 97}".encode(), json.dumps(event).encode()))
    return events


def expected_records(count: int) -> int:
    return sum(CHANNELS_PER_TYPE[TYPES[i % len(TYPES)]] for i in range(count))


def test_guide_examples_published_with_publish_event_become_records(kafka_settings):
    tenant_id = unique("guide")
    user_id, now = "1001", datetime.utcnow()
    base = {"user_id": user_id, "email": "john@example.com", "first_name": "John", "last_name": "Doe"}

    async def auth_service() -> None:
        await publish_event('auth-events', {
            'event_type': 'user.registration.completed', 'tenant_id': tenant_id, 'timestamp': now.isoformat(),
            'payload': {**base, 'username': 'johndoe', 'send_credentials': True, 'temp_password': 'T3mp!pass',
                        'login_link': 'https://app.example.com/login'}})
        await publish_event('auth-events', {
            'event_type': 'user.registration.completed', 'tenant_id': tenant_id, 'timestamp': now.isoformat(),
            'payload': {**base, 'user_id': '1002', 'username': '', 'send_credentials': True,
                        'temp_password': 'T3mp!pass2', 'login_link': 'https://app.example.com/login'}})
        await publish_event('auth-events', {
            'event_type': 'user.registration.completed', 'tenant_id': tenant_id, 'timestamp': now.isoformat(),
            'payload': {**base, 'user_id': '1003', 'username': 'jd3', 'send_credentials': False}})
        await publish_event('auth-events', {
            'event_type': 'user.password.reset.requested', 'tenant_id': tenant_id,
            'timestamp': now.isoformat(),
            'payload': {'user_id': user_id, 'email': 'john@example.com', 'phone': '+14155550123',
                        'reset_token': 'rt-123', 'expires_at': (now + timedelta(hours=1)).isoformat(),
                        'ip_address': '203.0.113.9',
                        'reset_link': 'https://app.example.com/reset-password?token=rt-123'}})

    # Kafka orders events within a partition, not across topics: the registrations are taken in first so that
    # the contact directory they fill is there for task.assigned, which carries no e-mail address.
    async def other_services() -> None:
        await publish_event('hr-events', {
            'event_type': 'task.assigned', 'tenant_id': tenant_id, 'timestamp': now.isoformat(),
            'payload': {'user_id': user_id, 'task_id': '77', 'task_title': 'Onboard Ada',
                        'task_description': 'Laptop and accounts', 'assigned_by': 'Grace Hopper',
                        'due_date': (now + timedelta(days=2)).isoformat(), 'priority': 'high'}})
        await publish_event('billing-events', {
            'event_type': 'invoice.payment.failed', 'tenant_id': tenant_id, 'timestamp': now.isoformat(),
            'payload': {'user_id': user_id, 'invoice_id': 5001, 'amount': float('49.90'), 'currency': 'EUR',
                        'failure_reason': 'insufficient_funds',
                        'next_retry_date': (now + timedelta(days=3)).isoformat(), 'payment_method': 'credit_card'}})

    group = unique("guide-group")
    asyncio.run(auth_service())
    taken_in = Event.objects.filter(tenant_id=tenant_id).count
    run_until(BatchConsumer(group_id=group, batch_size=50), lambda: taken_in() >= 4)
    asyncio.run(other_services())
    run_until(BatchConsumer(group_id=group, batch_size=50), lambda: taken_in() >= 6)

    events = dict(Event.objects.filter(tenant_id=tenant_id).values_list("event_type", "source").distinct())
    assert events == {"user.registration.completed": "auth-events", "user.password.reset.requested": "auth-events",
                      "task.assigned": "hr-events", "invoice.payment.failed": "billing-events"}
    records = sorted(NotificationRecord.objects.filter(tenant_id=tenant_id).values_list("event_type", "channel"))
    assert records == sorted(
        [("user.registration.completed", c) for c in ("email", "in_app") for _ in range(3)]
        + [("user.password.reset.requested", "email"), ("user.password.reset.requested", "sms")]
        + [("task.assigned", c) for c in ("email", "in_app", "push")]
        + [("invoice.payment.failed", c) for c in ("email", "sms", "push")]
    )
    # The contact directory filled by registration gives task.assigned its e-mail address.
    task_email = NotificationRecord.objects.get(tenant_id=tenant_id, event_type="task.assigned", channel="email")
    assert (task_email.status, task_email.recipient) == ("pending", "john@example.com")


def test_publish_event_sync_keys_by_tenant_and_user(kafka_settings, kafka_bootstrap):
    topic = unique("keys")
    ensure_topics([topic], partitions=3, replication_factor=1)
    publish_event_sync(topic, make_event("task.assigned", "acme", user_id="u-7") | {"timestamp": datetime(2026, 1, 1)})

    reader = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": unique("reader"),
                       "auto.offset.reset": "earliest"})
    reader.subscribe([topic])
    message = None
    deadline = time.monotonic() + 30
    while message is None and time.monotonic() < deadline:
        message = reader.poll(1.0)
    reader.close()
    assert message is not None and message.error() is None
    assert message.key() == b"acme:u-7"
    assert json.loads(message.value())["timestamp"] == "2026-01-01T00:00:00"


def test_bad_messages_go_to_the_dead_letter_topic_and_never_block_good_ones(kafka_settings, kafka_bootstrap):
    topic, tenant = unique("mixed"), unique("t")
    ensure_topics([topic], partitions=1, replication_factor=1)
    good = [json.dumps(make_event(TYPES[i], tenant) | {"event_id": f"g-{i}"}).encode() for i in range(6)]
    bad = {
        b"{not json": RejectionReason.INVALID_JSON,
        json.dumps({**make_event("task.assigned", tenant), "event_type": "order.shipped"}).encode():
            RejectionReason.UNSUPPORTED_EVENT_TYPE,
        json.dumps({k: v for k, v in make_event("task.assigned").items() if k != "tenant_id"}).encode():
            RejectionReason.MISSING_TENANT_ID,
    }
    values = [good[0], *list(bad)[:1], good[1], good[2], *list(bad)[1:2], good[3], *list(bad)[2:], good[4], good[5]]
    produce_raw(kafka_bootstrap, topic, [(None, v) for v in values])

    consumer = BatchConsumer(topics=[topic], group_id=unique("g"), batch_size=4)
    run_until(consumer, lambda: consumer.stats.messages >= len(values))

    assert Event.objects.filter(tenant_id=tenant).count() == 6
    assert RejectedEvent.objects.count() == 3
    dead = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": unique("dlq"),
                     "auto.offset.reset": "earliest"})
    dead.subscribe([kafka_settings["KAFKA_DEAD_LETTER_TOPIC"]])
    letters = []
    deadline = time.monotonic() + 30
    while len(letters) < 3 and time.monotonic() < deadline:
        message = dead.poll(1.0)
        if message is not None and message.error() is None:
            letters.append(message)
    dead.close()
    assert len(letters) == 3
    offsets = {value: offset for offset, value in enumerate(values)}
    for letter in letters:
        headers = {k: v.decode() for k, v in letter.headers()}
        assert headers["x-rejection-reason"] == bad[letter.value()].value
        assert headers["x-origin-topic"] == topic and headers["x-origin-partition"] == "0"
        assert int(headers["x-origin-offset"]) == offsets[letter.value()]
        assert headers["x-rejection-detail"]


def test_database_outage_retries_the_same_batch_without_losing_it(kafka_settings, kafka_bootstrap, monkeypatch):
    topic, tenant = unique("outage"), unique("t")
    ensure_topics([topic], partitions=2, replication_factor=1)
    produce_raw(kafka_bootstrap, topic, numbered_events(tenant, 40))
    import notifications.kafka.consumer as consumer_module

    real = consumer_module.process_events
    failures = {"left": 2}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("connection refused (injected)")
        return real(*args, **kwargs)

    monkeypatch.setattr(consumer_module, "process_events", flaky)
    monkeypatch.setattr(consumer_module, "MAX_BACKOFF_SECONDS", 1.0)
    consumer = BatchConsumer(topics=[topic], group_id=unique("g"), batch_size=100)
    run_until(consumer, lambda: Event.objects.filter(tenant_id=tenant).count() >= 40)

    assert consumer.stats.db_retries == 2
    assert Event.objects.filter(tenant_id=tenant).count() == 40
    assert NotificationRecord.objects.filter(tenant_id=tenant).count() == expected_records(40)


def test_two_consumer_processes_share_partitions_and_process_each_event_once(
    kafka_bootstrap, shared_db, tmp_path
):
    topic, tenant, group, dead = unique("orders6"), unique("t"), unique("g"), unique("dlq")
    ensure_topics_raw(kafka_bootstrap, topic, 6)
    logs = [tmp_path / "c1.log", tmp_path / "c2.log"]
    consumers = [consumer_process(shared_db, kafka_bootstrap, topic, group, dead, 250, log) for log in logs]
    try:
        time.sleep(3)  # both join the group before the burst
        produce_raw(kafka_bootstrap, topic, numbered_events(tenant, 5000))
        events = shared_db.wait_for("SELECT count(*) FROM notifications_event", 5000, timeout=240)
        assert events == 5000
        time.sleep(2)  # anything still in flight would show up now
    finally:
        for process in consumers:
            process.send_signal(signal.SIGTERM)
        for process in consumers:
            assert process.wait(timeout=60) == 0
    assert shared_db.scalar("SELECT count(*) FROM notifications_event") == 5000
    assert shared_db.scalar("SELECT count(DISTINCT dedupe_key) FROM notifications_event") == 5000
    assert shared_db.scalar("SELECT count(*) FROM notifications_notificationrecord") == expected_records(5000)
    for log in logs:
        text = log.read_text()
        assert "partitions assigned" in text and "intake batch" in text, text[-2000:]


def test_sigkill_mid_stream_then_restart_loses_and_duplicates_nothing(kafka_bootstrap, shared_db, tmp_path):
    topic, tenant, group, dead = unique("crash"), unique("t"), unique("g"), unique("dlq")
    ensure_topics_raw(kafka_bootstrap, topic, 3)
    produce_raw(kafka_bootstrap, topic, numbered_events(tenant, 3000))
    log = tmp_path / "consumer.log"

    # A killed member stays in the group until its session times out; 6 s (the broker's minimum) keeps the test
    # short, and goes through the KAFKA_CONFIG_* pass-through.
    shared_db.env["KAFKA_CONFIG_SESSION_TIMEOUT_MS"] = "6000"
    first = consumer_process(shared_db, kafka_bootstrap, topic, group, dead, 50, log)
    try:
        assert shared_db.wait_for("SELECT count(*) FROM notifications_event", 300, timeout=120) >= 300
    finally:
        first.kill()
        first.wait(timeout=30)
    partial = shared_db.scalar("SELECT count(*) FROM notifications_event")
    assert partial < 3000, "the consumer finished before it was killed: the test proves nothing"

    second = consumer_process(shared_db, kafka_bootstrap, topic, group, dead, 50, log)
    try:
        assert shared_db.wait_for("SELECT count(*) FROM notifications_event", 3000, timeout=240) == 3000
        time.sleep(2)
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    assert shared_db.scalar("SELECT count(*) FROM notifications_event") == 3000
    assert shared_db.scalar("SELECT count(*) FROM notifications_notificationrecord") == expected_records(3000)


def test_sigterm_commits_offsets_and_kafka_lag_reports_zero(kafka_bootstrap, shared_db, tmp_path, settings, capsys):
    topic, tenant, group, dead = unique("lag"), unique("t"), unique("g"), unique("dlq")
    ensure_topics_raw(kafka_bootstrap, topic, 2)
    produce_raw(kafka_bootstrap, topic, numbered_events(tenant, 200))
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    before = {(r.topic, r.partition): r.lag for r in group_lag(group, [topic])}
    assert sum(before.values()) == 200

    process = consumer_process(shared_db, kafka_bootstrap, topic, group, dead, 500, tmp_path / "c.log")
    try:
        assert shared_db.wait_for("SELECT count(*) FROM notifications_event", 200, timeout=120) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    assert "Kafka consumer stopped" in (tmp_path / "c.log").read_text()

    call_command("kafka_lag", "--group-id", group, "--topics", topic)
    out = capsys.readouterr().out
    assert f"group {group}: total lag 0 over 2 partitions" in out


def ensure_topics_raw(bootstrap: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})  # must outlive the future
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
    futures[topic].result(30)


def test_example_payloads_cover_all_types():
    assert set(EXAMPLE_PAYLOADS) == set(CHANNELS_PER_TYPE)


def test_a_batch_waits_from_its_oldest_message_not_from_the_poll(kafka_settings, kafka_bootstrap):
    """Caught up, messages that have waited KAFKA_BATCH_WAIT_MS already (by their Kafka timestamp) are taken in at
    once; fresh ones wait for the batch to fill, at most that long. A timestamp is believed no further back than
    the previous batch: a producer whose clock runs behind does not get each message its own batch."""
    topic = unique("wait")
    ensure_topics([topic], partitions=1, replication_factor=1)
    consumer = BatchConsumer(topics=[topic], group_id=unique("g"), batch_size=100, poll_timeout=2.0)
    consumer._consumer.subscribe([topic])
    deadline = time.monotonic() + 30
    while not consumer._consumer.assignment() and time.monotonic() < deadline:
        assert consumer._consumer.consume(num_messages=1, timeout=0.2) == []  # joining the group
    producer = Producer({"bootstrap.servers": kafka_bootstrap})

    def batch_after(values: list[bytes], timestamp: int = 0, settle: float = 0.0) -> tuple[list[bytes], float]:
        for value in values:
            producer.produce(topic, value=value, timestamp=timestamp)
        producer.flush(10)
        time.sleep(settle)
        started = time.monotonic()
        batch = consumer._next_batch()
        return [message.value() for message in batch], time.monotonic() - started

    try:
        ten_seconds_ago = int((time.time() - 10) * 1000)
        # Quiet for longer than the wait, then messages ten seconds old: taken in at once.
        old, old_took = batch_after([b"old %d" % n for n in range(5)], ten_seconds_ago, settle=2.5)
        # Fresh messages: the batch waits to fill, about KAFKA_BATCH_WAIT_MS.
        new, new_took = batch_after([b"new %d" % n for n in range(5)])
        # Stamped ten seconds ago, but the previous batch was handed out just now: they wait too.
        skewed, skewed_took = batch_after([b"skewed %d" % n for n in range(5)], int((time.time() - 10) * 1000))
    finally:
        consumer._consumer.close()

    assert old == [b"old %d" % n for n in range(5)] and old_took < 0.8
    assert new == [b"new %d" % n for n in range(5)] and 1.2 < new_took < 3.0
    assert skewed == [b"skewed %d" % n for n in range(5)] and 1.2 < skewed_took < 3.0
