"""Producing with known offsets, reading a topic whole, and topics with a small size limit, for the tests on the
real broker."""

from __future__ import annotations

import time
from typing import Any

from confluent_kafka import Consumer, Message, Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.kafka.conftest import unique

SMALL_LIMIT = 256 * 1024  # max.message.bytes of the hostile tests' topics: "near the limit" stays cheap


def create_topics(bootstrap: str, names: list[str], partitions: int = 1, max_bytes: int | None = None) -> None:
    config = {"max.message.bytes": str(max_bytes)} if max_bytes else {}
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept until the futures are done
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=1, config=config) for name in names])
    for future in futures.values():
        future.result(30)


def produce(bootstrap: str, topic: str, values: list[bytes], partition: int | None = None,
            key: bytes | None = None) -> list[tuple[int, int]]:
    """Publish the values in order; returns each one's (partition, offset)."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 20,
                         "message.max.bytes": 2 * SMALL_LIMIT, "batch.size": 64 * 1024})  # big ones alone
    where: list[Any] = [None] * len(values)

    def report(index: int) -> Any:
        def on_delivery(err: Any, msg: Message) -> None:
            assert err is None, err
            where[index] = (msg.partition(), msg.offset())
        return on_delivery

    for index, value in enumerate(values):
        extra = {"partition": partition} if partition is not None else {}
        while True:
            try:
                producer.produce(topic, value=value, key=key, on_delivery=report(index), **extra)
                break
            except BufferError:
                producer.poll(0.1)
    assert producer.flush(60) == 0
    return where


def read_all(bootstrap: str, topic: str, count: int, timeout: float = 30.0) -> list[Message]:
    """The first `count` messages of a topic (fewer if they do not come within the timeout)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": unique("reader"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    found: list[Message] = []
    deadline = time.monotonic() + timeout
    try:
        while len(found) < count and time.monotonic() < deadline:
            found += [m for m in consumer.consume(count - len(found), timeout=0.5) if m.error() is None]
    finally:
        consumer.close()
    return found


def headers_of(message: Message) -> dict[str, str]:
    return {name: value.decode() for name, value in message.headers() or []}
