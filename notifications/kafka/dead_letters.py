"""Copies of rejected messages on the dead-letter topic: they never block or end the consumer.

Each copy carries headers (the reason, its detail, the origin: topic, partition, offset; the consumer group; the
original's sha256 and size) and the original's body with its secrets masked: sensitive fields (SENSITIVE_KEYS and
every handler's sensitive_fields) in a JSON body, `key=value` secrets and recently seen secret values in any
other; a body with nothing to mask is copied as it is. The original itself stays encrypted in the rejected-event
store.

A copy the broker refuses for good (too large for the topic or for the client's message.max.bytes, or any other
error that is not about availability) is replaced by a reduced copy: the same headers and a small JSON body with
the reason, the origin and the digest and size of the original. Only unavailability (broker down, no leader,
timeouts) is retried, by the caller, with backoff; a reduced copy refused for good is logged and given up (the
rejection is stored in the database all the same)."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

import orjson
from confluent_kafka import KafkaError, Message

from notifications.enums import Outcome
from notifications.events.registry import event_registry
from notifications.intake.results import IntakeResult
from notifications.kafka.producer import EventProducer
from notifications.security import redact
from notifications.security.redaction import read_json_leniently, redact_text

logger = logging.getLogger(__name__)

MAX_DETAIL = 1000
MAX_KEY = 1024  # a longer message key is left off the reduced copy

# Errors that say the broker (or the partition's leader) is away for now: the same copy is sent again later.
UNAVAILABLE = frozenset({
    KafkaError._MSG_TIMED_OUT, KafkaError._TIMED_OUT, KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN,
    KafkaError._QUEUE_FULL, KafkaError._UNKNOWN_TOPIC, KafkaError._UNKNOWN_PARTITION,
    KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError.LEADER_NOT_AVAILABLE, KafkaError.NOT_LEADER_FOR_PARTITION,
    KafkaError.NOT_ENOUGH_REPLICAS, KafkaError.NOT_ENOUGH_REPLICAS_AFTER_APPEND, KafkaError.REQUEST_TIMED_OUT,
    KafkaError.NETWORK_EXCEPTION, KafkaError.BROKER_NOT_AVAILABLE,
})


def unavailable(err: KafkaError) -> bool:
    return err.code() in UNAVAILABLE or (err.retriable() and not err.fatal())


@dataclass
class DeadLetter:
    """One rejected message's copy, until the broker confirms it."""

    headers: list[tuple[str, bytes]]
    key: bytes | None
    body: bytes
    reduced_body: bytes
    reduced: bool = False

    def outgoing(self) -> tuple[bytes, bytes | None, list[tuple[str, bytes]]]:
        if self.reduced:
            key = self.key if self.key is None or len(self.key) <= MAX_KEY else None
            return self.reduced_body, key, [*self.headers, ("x-dead-letter-copy", b"reduced")]
        return self.body, self.key, [*self.headers, ("x-dead-letter-copy", b"redacted")]


def _header_text(text: str) -> bytes:
    return text.encode("utf-8", "backslashreplace")


def redacted_body(value: bytes, sensitive: frozenset[str]) -> bytes:
    """The body with its secrets masked: structurally when it reads as JSON, else by text patterns. A body in
    which neither finds anything to mask is copied byte for byte (a replay can use it as it is)."""
    text = value.decode("utf-8", "replace")
    masked_text = redact_text(text)
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        parsed = read_json_leniently(text)  # NaN, long numbers, repeated keys: still masked by key
    if isinstance(parsed, (dict, list)):
        try:
            masked = redact(parsed, sensitive)
            if masked_text == text and masked == parsed:
                return value
            return orjson.dumps(masked, default=str)
        except (TypeError, RecursionError, orjson.JSONEncodeError):
            pass  # e.g. nesting orjson writes no deeper than it reads: masked as text instead
    return value if masked_text == text else masked_text.encode()


class DeadLetterWriter:
    def __init__(self, topic: str, group_id: str, producer: EventProducer | None = None) -> None:
        self.topic, self.group_id = topic, group_id
        self.producer = producer or EventProducer()
        self.sensitive = event_registry.redacted_keys()

    def letters(self, messages: list[Message], results: list[IntakeResult]) -> list[DeadLetter]:
        """The copies a batch calls for: one per rejected message."""
        return [self.letter(message, result) for message, result in zip(messages, results, strict=True)
                if result.outcome == Outcome.REJECTED]

    def letter(self, message: Message, result: IntakeResult) -> DeadLetter:
        value = message.value() or b""
        reason = result.reason.value if result.reason else "rejected"
        detail = redact_text(result.detail)[:MAX_DETAIL]
        digest = hashlib.sha256(value).hexdigest()
        origin = {"topic": message.topic(), "partition": message.partition(), "offset": message.offset()}
        headers = [
            ("x-rejection-reason", reason.encode()),
            ("x-rejection-detail", _header_text(detail)),
            ("x-origin-topic", _header_text(str(origin["topic"]))),
            ("x-origin-partition", str(origin["partition"]).encode()),
            ("x-origin-offset", str(origin["offset"]).encode()),
            ("x-consumer-group", _header_text(self.group_id)),
            ("x-original-sha256", digest.encode()),
            ("x-original-size", str(len(value)).encode()),
        ]
        reduced: dict[str, Any] = {"reduced": True, "reason": reason, "detail": detail, "origin": origin,
                                   "sha256": digest, "size": len(value)}
        return DeadLetter(headers=headers, key=message.key(), body=redacted_body(value, self.sensitive),
                          reduced_body=json.dumps(reduced).encode())

    def send(self, letters: list[DeadLetter]) -> list[DeadLetter]:
        """Send the copies; returns those to send again later (the broker unavailable). A copy refused for good
        is sent reduced at once; a reduced copy refused for good is logged and given up."""
        again: list[DeadLetter] = []
        while letters:
            outcomes = self.producer.publish_many(self.topic, [letter.outgoing() for letter in letters])
            refused: list[DeadLetter] = []
            for letter, err in zip(letters, outcomes, strict=True):
                if err is None:
                    continue
                if unavailable(err):
                    again.append(letter)
                elif not letter.reduced:
                    logger.warning("dead-letter topic %s refused a copy (%s): sending a reduced copy", self.topic,
                                   err.str())
                    letter.reduced = True
                    refused.append(letter)
                else:
                    origin = dict(letter.headers)
                    logger.error("dead-letter topic %s refused a reduced copy (%s): given up, the rejection of "
                                 "%s[%s]@%s stays stored", self.topic, err.str(), origin["x-origin-topic"].decode(),
                                 origin["x-origin-partition"].decode(), origin["x-origin-offset"].decode())
                if err.fatal():
                    self._renew_producer()
            letters = refused
        return again

    def _renew_producer(self) -> None:
        logger.error("the dead-letter producer hit a fatal error: starting a new one")
        old, self.producer = self.producer, EventProducer()
        old.close(timeout=0)

    def close(self) -> None:
        self.producer.close()
