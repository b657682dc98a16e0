"""The idempotent producer behind publish_event. One librdkafka producer per process, served by a background
thread that polls for delivery reports, so sync and async callers wait only for their own message."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from typing import Any, cast

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from notifications.kafka.config import client_config
from notifications.kafka.errors import KafkaPublishError
from notifications.utils.lazy import ProcessSingleton

logger = logging.getLogger(__name__)

DELIVERY_TIMEOUT_SECONDS = 30.0


def message_key(event: dict[str, Any]) -> bytes | None:
    """'tenant_id:user_id', so one user's events land in one partition and stay in order."""
    tenant = event.get("tenant_id")
    payload = event.get("payload")
    user = event.get("user_id") or (payload.get("user_id") if isinstance(payload, dict) else None) or ""
    if tenant is None:
        return None
    return f"{tenant}:{user}".encode()


class EventProducer:
    def __init__(self, **overrides: Any) -> None:
        config = client_config(
            **{
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "message.timeout.ms": int(DELIVERY_TIMEOUT_SECONDS * 1000),
                **overrides,
            }
        )
        self._producer = Producer(config)
        self._closing = threading.Event()
        self._poller = threading.Thread(target=self._poll_forever, name="kafka-producer-poll", daemon=True)
        self._poller.start()

    def _poll_forever(self) -> None:
        while not self._closing.is_set():
            self._producer.poll(0.1)

    def _produce(self, topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]] | None,
                 on_delivery: Any) -> None:
        while True:
            try:
                self._producer.produce(topic, value=value, key=key, on_delivery=on_delivery,
                                       headers=cast(Any, headers))  # the stubs take str | bytes | None values
                return
            except BufferError:
                # The local queue is full: let the poller drain delivery reports, then try again.
                self._producer.poll(0.05)

    def publish(self, topic: str, value: bytes, key: bytes | None = None,
                headers: list[tuple[str, bytes]] | None = None, timeout: float = DELIVERY_TIMEOUT_SECONDS) -> Message:
        done = threading.Event()
        outcome: dict[str, Any] = {}

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            outcome["err"], outcome["msg"] = err, msg
            done.set()

        self._produce(topic, value, key, headers, on_delivery)
        if not done.wait(timeout):
            raise KafkaPublishError("no delivery report from Kafka in time", topic=topic, timeout=timeout)
        if outcome["err"] is not None:
            raise KafkaPublishError(f"Kafka refused the message: {outcome['err'].str()}", topic=topic)
        return outcome["msg"]

    def publish_many(self, topic: str, messages: list[tuple[bytes, bytes | None, list[tuple[str, bytes]]]],
                     timeout: float = DELIVERY_TIMEOUT_SECONDS) -> list[KafkaError | None]:
        """Send (value, key, headers) messages at once and wait for each one's report: None when confirmed, else
        the error (a refusal, or _MSG_TIMED_OUT when no report came in time). Never raises for one message."""
        done = threading.Semaphore(0)
        outcomes: list[KafkaError | None] = [KafkaError(KafkaError._MSG_TIMED_OUT)] * len(messages)

        def reporter(index: int) -> Any:
            def on_delivery(err: KafkaError | None, msg: Message) -> None:
                outcomes[index] = err
                done.release()
            return on_delivery

        waiting = 0
        for index, (value, key, headers) in enumerate(messages):
            try:
                self._produce(topic, value, key, headers, reporter(index))
                waiting += 1
            except KafkaException as err:  # refused before sending, e.g. larger than message.max.bytes
                outcomes[index] = err.args[0]
        deadline = time.monotonic() + timeout
        for _ in range(waiting):
            if not done.acquire(timeout=max(deadline - time.monotonic(), 0)):
                break
        return outcomes

    async def publish_async(self, topic: str, value: bytes, key: bytes | None = None,
                            headers: list[tuple[str, bytes]] | None = None,
                            timeout: float = DELIVERY_TIMEOUT_SECONDS) -> Message:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Message] = loop.create_future()

        def settle(err: KafkaError | None, msg: Message) -> None:
            if future.done():
                return
            if err is not None:
                future.set_exception(KafkaPublishError(f"Kafka refused the message: {err.str()}", topic=topic))
            else:
                future.set_result(msg)

        def on_delivery(err: KafkaError | None, msg: Message) -> None:
            loop.call_soon_threadsafe(settle, err, msg)

        self._produce(topic, value, key, headers, on_delivery)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as err:
            raise KafkaPublishError("no delivery report from Kafka in time", topic=topic, timeout=timeout) from err

    def flush(self, timeout: float = DELIVERY_TIMEOUT_SECONDS) -> int:
        return self._producer.flush(timeout)

    def close(self, timeout: float = DELIVERY_TIMEOUT_SECONDS) -> None:
        self.flush(timeout)
        self._closing.set()
        self._poller.join(timeout=5)


_shared = ProcessSingleton(EventProducer)


def shared_producer() -> EventProducer:
    return _shared.get()


def reset_shared_producer() -> None:
    """Close the process's producer (tests, configuration changes)."""
    _shared.reset(close=EventProducer.close)


def encode_event(event: dict[str, Any]) -> bytes:
    from notifications.utils.jsonable import to_jsonable

    return json.dumps(to_jsonable(event), separators=(",", ":")).encode()
