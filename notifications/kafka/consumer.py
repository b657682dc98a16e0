"""The at-least-once batch consumer.

Loop: consume up to N messages -> one intake call (one DB transaction) -> dead letters for rejected ones ->
store the offsets. Offsets are stored only after the transaction committed and the dead letters were
confirmed; librdkafka commits stored offsets every second, on partition revoke and on close. A database
outage pauses the partitions and retries the same batch with backoff; nothing is skipped."""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import (
    TIMESTAMP_NOT_AVAILABLE,
    Consumer,
    KafkaError,
    KafkaException,
    Message,
    TopicPartition,
)
from django.db import close_old_connections, connections
from django.db.utils import InterfaceError, OperationalError
from prometheus_client import Gauge, Histogram

from notifications.conf import get_setting
from notifications.enums import Outcome
from notifications.intake.results import IntakeResult
from notifications.intake.service import process_events
from notifications.kafka.admin import ensure_topics
from notifications.kafka.config import client_config
from notifications.kafka.dead_letters import DeadLetterWriter

logger = logging.getLogger(__name__)

LAG = Gauge("notifications_kafka_consumer_lag", "Messages behind the end of the partition", ["topic", "partition"])
BATCH_SIZE = Histogram("notifications_kafka_batch_size", "Messages per consumed batch",
                       buckets=(1, 10, 50, 100, 250, 500, 1000, 2500, 5000))
BATCH_SECONDS = Histogram("notifications_kafka_batch_seconds", "Time to take in one batch, DB commit included")

MAX_BACKOFF_SECONDS = 30.0


@dataclass
class ConsumerStats:
    batches: int = 0
    messages: int = 0
    processed: int = 0
    duplicates: int = 0
    rejected: int = 0
    db_retries: int = 0
    by_partition: dict[tuple[str, int], int] = field(default_factory=dict)

    def __str__(self) -> str:
        return (f"batches={self.batches} messages={self.messages} processed={self.processed} "
                f"duplicates={self.duplicates} rejected={self.rejected} db_retries={self.db_retries}")


def _origin(message: Message) -> dict[str, Any]:
    _, timestamp = message.timestamp()
    return {"topic": message.topic(), "partition": message.partition(), "offset": message.offset(),
            "timestamp": timestamp}


def _where(message: Message) -> tuple[str, int, int]:
    """A consumed message's topic, partition and offset (the client's types allow None only for messages it made
    itself, such as errors, which never reach here)."""
    topic, partition, offset = message.topic(), message.partition(), message.offset()
    if topic is None or partition is None or offset is None:
        raise KafkaException(f"a consumed message without its position: {topic}[{partition}]@{offset}")
    return topic, partition, offset


class _Origins(Sequence[dict[str, Any]]):
    """Each message's origin (topic, partition, offset, timestamp), made when asked for: intake keeps it only
    with a rejected event."""

    def __init__(self, messages: list[Message]) -> None:
        self._messages = messages

    def __len__(self) -> int:
        return len(self._messages)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [_origin(message) for message in self._messages[index]]
        return _origin(self._messages[index])


class BatchConsumer:
    def __init__(
        self,
        topics: Sequence[str] | None = None,
        group_id: str | None = None,
        batch_size: int | None = None,
        poll_timeout: float | None = None,
        dead_letter_topic: str | None = None,
        create_topics: bool | None = None,
        config_overrides: dict[str, Any] | None = None,
    ) -> None:
        self.topics = list(topics or get_setting("KAFKA_TOPICS"))
        self.group_id = group_id or get_setting("KAFKA_GROUP_ID", "notifications-service")
        self.batch_size = batch_size or int(get_setting("KAFKA_BATCH_SIZE", 500))
        # The longest a batch waits to fill: with a backlog batches are full at once; caught up, an event waits
        # at most this long before its batch is taken in (KAFKA_BATCH_WAIT_MS, default 100 ms).
        self.poll_timeout = poll_timeout if poll_timeout is not None else (
            float(get_setting("KAFKA_BATCH_WAIT_MS", 100)) / 1000)
        self.dead_letter_topic = dead_letter_topic or get_setting("KAFKA_DEAD_LETTER_TOPIC")
        self.stats = ConsumerStats()
        self._running = False
        self._handed_out_at = time.monotonic()
        self._revoked: set[tuple[str, int]] = set()
        if create_topics if create_topics is not None else get_setting("KAFKA_CREATE_TOPICS", False):
            ensure_topics(
                [*self.topics, self.dead_letter_topic],
                partitions=int(get_setting("KAFKA_TOPIC_PARTITIONS", 6)),
                replication_factor=int(get_setting("KAFKA_REPLICATION_FACTOR", 1)),
            )
        self._consumer = Consumer(
            client_config(
                **{
                    "group.id": self.group_id,
                    "enable.auto.commit": True,
                    "auto.commit.interval.ms": 1000,
                    "enable.auto.offset.store": False,
                    "auto.offset.reset": "earliest",
                    "partition.assignment.strategy": "cooperative-sticky",
                    # Members learn of a rebalance from a heartbeat's answer: at librdkafka's default of 3 s,
                    # the second round of a cooperative rebalance (when a member joins, a deploy, a restart) left
                    # the revoked partitions unconsumed for up to 3 s. A heartbeat is one small request.
                    "heartbeat.interval.ms": 500,
                    "enable.partition.eof": False,
                    **(config_overrides or {}),
                }
            )
        )
        self._dead_letters = DeadLetterWriter(self.dead_letter_topic, self.group_id)

    # --- rebalance ------------------------------------------------------------------------------------------
    def _on_assign(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        for tp in partitions:
            self._revoked.discard((tp.topic, tp.partition))
        logger.info("partitions assigned: %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "-")

    def _on_revoke(self, consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._revoked |= {(tp.topic, tp.partition) for tp in partitions}
        self._commit_stored()
        logger.info("partitions revoked: %s", ", ".join(f"{tp.topic}[{tp.partition}]" for tp in partitions) or "-")

    def _commit_stored(self) -> None:
        try:
            self._consumer.commit(asynchronous=False)
        except KafkaException as err:
            if err.args[0].code() != KafkaError._NO_OFFSET:
                logger.warning("offset commit failed: %s", err.args[0].str())

    # --- main loop ------------------------------------------------------------------------------------------
    def run(self, *, stop_when: Callable[[BatchConsumer], bool] | None = None,
            install_signal_handlers: bool = False) -> ConsumerStats:
        if install_signal_handlers:
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda *_: self.stop())
        self._consumer.subscribe(self.topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        self._running = True
        logger.info("kafka consumer started: group=%s topics=%s batch_size=%d",
                    self.group_id, ",".join(self.topics), self.batch_size)
        try:
            while self._running and not (stop_when and stop_when(self)):
                messages = self._next_batch()
                good = []
                for message in messages:
                    error = message.error()
                    if error is None:
                        good.append(message)
                    elif error.fatal():
                        raise KafkaException(error)
                    else:
                        logger.warning("kafka consumer error: %s", error.str())
                if good:
                    self._handle_batch(good)
        finally:
            self._shutdown()
        return self.stats

    def _next_batch(self) -> list[Message]:
        """Up to batch_size messages. With a backlog the batch is full at once. Caught up, it is taken in when its
        oldest message (by its Kafka timestamp) is KAFKA_BATCH_WAIT_MS old: what arrived while the previous batch
        was being taken in has waited already, and waits only the rest."""
        batch = self._consumer.consume(num_messages=self.batch_size, timeout=0)  # what is buffered already
        if not batch:
            batch = self._consumer.consume(num_messages=1, timeout=self.poll_timeout)  # returns on the first one
            if not batch:
                return batch
        if len(batch) < self.batch_size:
            stamps = [stamp for kind, stamp in (message.timestamp() for message in batch)
                      if kind != TIMESTAMP_NOT_AVAILABLE]
            age = max(time.time() - min(stamps) / 1000, 0.0) if stamps else 0.0
            # A producer's clock (or a replayed timestamp) is not ours to trust beyond what we saw: nothing here
            # has waited longer than since the previous batch was handed out.
            age = min(age, time.monotonic() - self._handed_out_at)
            # Whatever is buffered by now comes along in any case (a backlog's first message arrives alone).
            batch += self._consumer.consume(num_messages=self.batch_size - len(batch),
                                            timeout=max(self.poll_timeout - age, 0))
        self._handed_out_at = time.monotonic()
        return batch

    def stop(self) -> None:
        self._running = False

    def _shutdown(self) -> None:
        logger.info("kafka consumer stopping: %s", self.stats)
        try:
            self._commit_stored()
            self._consumer.close()
        finally:
            self._dead_letters.close()

    # --- one batch ------------------------------------------------------------------------------------------
    def _handle_batch(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        taken = self._process_with_retry(messages)
        if taken is None:  # stopping during a database outage: offsets stay where they were
            return
        messages, results = taken
        if not self._send_dead_letters(messages, results):
            return
        self._store_offsets(messages)
        self._update_metrics(messages, results, time.perf_counter() - started)

    def _process_with_retry(
        self, messages: list[Message]
    ) -> tuple[list[Message], list[IntakeResult]] | None:
        """Intake isolates bad events itself (each becomes a rejection); what reaches here is the database
        being away, or an unexpected failure: both back off and retry the same batch, offsets unmoved."""
        attempt = 0
        while True:
            if self._revoked:
                messages = [m for m in messages if (m.topic(), m.partition()) not in self._revoked]
            if not messages:
                return [], []
            try:
                close_old_connections()
                results = process_events(
                    [m.value() for m in messages],
                    source=[_where(m)[0] for m in messages],
                    origins=_Origins(messages),
                )
                if attempt:
                    self._consumer.resume(self._consumer.assignment())
                    logger.info("batch of %d taken in after %d retries", len(messages), attempt)
                return messages, results
            except Exception as err:
                attempt += 1
                self.stats.db_retries += 1
                wait = min(2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                if isinstance(err, (OperationalError, InterfaceError)):
                    logger.error("database unavailable (%s): retrying the same batch of %d in %.0fs",
                                 type(err).__name__, len(messages), wait)
                else:
                    logger.exception("taking in a batch of %d failed: retrying it in %.0fs", len(messages), wait)
                connections.close_all()
                if attempt == 1:
                    self._consumer.pause(self._consumer.assignment())
                if not self._wait_polling(wait):
                    return None

    def _wait_polling(self, seconds: float) -> bool:
        """Sleep while staying in the group (paused partitions return nothing). False when asked to stop."""
        deadline = time.monotonic() + seconds
        while self._running and time.monotonic() < deadline:
            message = self._consumer.poll(min(0.5, max(deadline - time.monotonic(), 0.01)))
            if message is not None and message.error() is None:
                # Cannot happen while paused; if it does, it must not be lost: it is re-read after a rewind.
                self._consumer.seek(TopicPartition(*_where(message)))
        return self._running

    def _send_dead_letters(self, messages: list[Message], results: list[IntakeResult]) -> bool:
        """Copy rejected messages to the dead-letter topic (see dead_letters.py: a copy refused for good is
        replaced by a reduced one). Only while Kafka is unavailable are the unconfirmed copies retried, with
        backoff. False when asked to stop first (the offsets then stay, and the batch is read again)."""
        letters = self._dead_letters.letters(messages, results)
        attempt = 0
        while letters:
            letters = self._dead_letters.send(letters)
            if letters:
                attempt += 1
                wait = min(2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
                logger.error("dead-letter topic %s unavailable for %d copies: retrying in %.0fs",
                             self.dead_letter_topic, len(letters), wait)
                if not self._wait_polling(wait):
                    return False
        return True

    def _store_offsets(self, messages: list[Message]) -> None:
        last: dict[tuple[str, int], int] = {}
        for message in messages:
            topic, partition, offset = _where(message)
            last[(topic, partition)] = max(last.get((topic, partition), -1), offset)
        if last:
            self._consumer.store_offsets(
                offsets=[TopicPartition(topic, partition, offset + 1) for (topic, partition), offset in last.items()]
            )

    def _update_metrics(self, messages: list[Message], results: list[IntakeResult], elapsed: float) -> None:
        self.stats.batches += 1
        self.stats.messages += len(messages)
        for message, result in zip(messages, results, strict=True):
            topic, partition, _ = _where(message)
            key = (topic, partition)
            self.stats.by_partition[key] = self.stats.by_partition.get(key, 0) + 1
            if result.outcome == Outcome.PROCESSED:
                self.stats.processed += 1
            elif result.outcome == Outcome.DUPLICATE:
                self.stats.duplicates += 1
            else:
                self.stats.rejected += 1
        BATCH_SIZE.observe(len(messages))
        BATCH_SECONDS.observe(elapsed)
        positions: dict[tuple[str, int], int] = {}
        for message in messages:
            topic, partition, offset = _where(message)
            positions[(topic, partition)] = max(positions.get((topic, partition), -1), offset)
        for (topic, partition), position in positions.items():
            try:
                _, high = self._consumer.get_watermark_offsets(TopicPartition(topic, partition), cached=True)
            except KafkaException:
                continue
            if high is None:
                continue
            LAG.labels(topic, str(partition)).set(max(high - position - 1, 0))
