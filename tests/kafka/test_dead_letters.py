"""Dead letters never block or end the consumer, and carry no secrets."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from notifications.enums import Outcome
from notifications.events.models import Event, RejectedEvent
from notifications.intake.results import IntakeResult
from notifications.kafka.consumer import BatchConsumer
from notifications.kafka.dead_letters import DeadLetterWriter
from notifications.kafka.producer import EventProducer
from notifications.security import decrypt_text
from notifications.testing import make_event
from tests.kafka.conftest import unique
from tests.kafka.helpers import SMALL_LIMIT, create_topics, headers_of, produce, read_all

pytestmark = [pytest.mark.kafka, pytest.mark.django_db(transaction=True)]


def _run(consumer: BatchConsumer, messages: int, timeout: float = 30.0) -> float:
    started = time.monotonic()
    consumer.run(stop_when=lambda c: c.stats.messages >= messages or time.monotonic() - started > timeout)
    return time.monotonic() - started


def test_a_rejected_message_near_the_size_limit_gets_a_reduced_dead_letter_and_the_consumer_goes_on(
        kafka_settings, kafka_bootstrap):
    topic, dead, tenant = unique("near-limit"), kafka_settings["KAFKA_DEAD_LETTER_TOPIC"], unique("t")
    create_topics(kafka_bootstrap, [topic, dead], max_bytes=SMALL_LIMIT)
    huge = b'{"event_type": "task.assigned", "padding": "' + b"x" * (SMALL_LIMIT - 300)  # not JSON: rejected
    good = json.dumps(make_event("task.assigned", tenant) | {"event_id": "after"}).encode()
    (_, huge_offset), _ = produce(kafka_bootstrap, topic, [huge, good])

    consumer = BatchConsumer(topics=[topic], group_id=unique("g"), batch_size=10)
    elapsed = _run(consumer, 2)

    assert elapsed < 30 and consumer.stats.rejected == 1 and consumer.stats.processed == 1
    assert Event.objects.filter(tenant_id=tenant).count() == 1
    [letter] = read_all(kafka_bootstrap, dead, 1)
    headers = headers_of(letter)
    assert headers["x-dead-letter-copy"] == "reduced"
    assert headers["x-original-sha256"] == hashlib.sha256(huge).hexdigest()
    assert headers["x-original-size"] == str(len(huge))
    assert (headers["x-origin-topic"], headers["x-origin-offset"]) == (topic, str(huge_offset))
    body = json.loads(letter.value())
    assert body == {"reduced": True, "reason": "invalid_json", "detail": headers["x-rejection-detail"],
                    "origin": {"topic": topic, "partition": 0, "offset": huge_offset},
                    "sha256": hashlib.sha256(huge).hexdigest(), "size": len(huge)}
    assert RejectedEvent.objects.filter(origin_key=f"{topic}/0/{huge_offset}").count() == 1


def test_a_copy_the_client_refuses_before_sending_is_replaced_by_a_reduced_one(kafka_settings, kafka_bootstrap):
    dead = kafka_settings["KAFKA_DEAD_LETTER_TOPIC"]
    writer = DeadLetterWriter(dead, "g", producer=EventProducer(**{"message.max.bytes": 3000}))
    source = unique("src")
    [(partition, offset)] = produce(kafka_bootstrap, source, [b"z" * 5000])
    [message] = read_all(kafka_bootstrap, source, 1)
    try:
        letters = writer.letters([message], [IntakeResult(Outcome.REJECTED, detail="invalid JSON")])
        assert writer.send(letters) == []
    finally:
        writer.close()

    [letter] = read_all(kafka_bootstrap, dead, 1)
    assert headers_of(letter)["x-dead-letter-copy"] == "reduced"
    assert json.loads(letter.value())["origin"] == {"topic": source, "partition": partition, "offset": offset}


def test_dead_letters_carry_no_secrets_while_the_stored_original_keeps_them(kafka_settings, kafka_bootstrap):
    topic, dead = unique("secrets"), kafka_settings["KAFKA_DEAD_LETTER_TOPIC"]
    event = make_event("user.registration.completed", temp_password="Pl41n-T3mp-Pass") | {"event_type": "user.new"}
    nested = {"event_type": "user.registration.completed", "payload": {"profile": {"code": "482915"}}}
    not_json = b'{"reset_token": "rt-99887766", "oops'
    values = [json.dumps(event).encode(), json.dumps(nested).encode(), not_json]
    produce(kafka_bootstrap, topic, values)

    consumer = BatchConsumer(topics=[topic], group_id=unique("g"), batch_size=10)
    _run(consumer, 3)

    letters = read_all(kafka_bootstrap, dead, 3)
    assert len(letters) == 3
    for letter in letters:
        assert headers_of(letter)["x-dead-letter-copy"] == "redacted"
        for secret in (b"Pl41n-T3mp-Pass", b"482915", b"rt-99887766"):
            assert secret not in letter.value() and secret not in b"".join(v for _, v in letter.headers())
        assert b"[REDACTED]" in letter.value()
    stored = {decrypt_text(row.original_encrypted) for row in RejectedEvent.objects.all()}
    assert stored == {value.decode() for value in values}
