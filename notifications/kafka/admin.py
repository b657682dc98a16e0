"""Topics (optional creation) and consumer-group lag."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from notifications.kafka.config import client_config

logger = logging.getLogger(__name__)


def ensure_topics(names: Iterable[str], partitions: int, replication_factor: int, timeout: float = 30.0) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AdminClient(client_config())
    existing = set(admin.list_topics(timeout=timeout).topics)
    missing = [name for name in dict.fromkeys(names) if name not in existing]
    if not missing:
        return []
    futures = admin.create_topics(
        [NewTopic(name, num_partitions=partitions, replication_factor=replication_factor) for name in missing],
        operation_timeout=timeout,
    )
    created = []
    for name, future in futures.items():
        try:
            future.result(timeout)
            created.append(name)
            logger.info("created topic %s (%d partitions)", name, partitions)
        except KafkaException as err:
            if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    committed: int | None
    end: int

    @property
    def lag(self) -> int:
        start = self.committed if self.committed is not None and self.committed >= 0 else 0
        return max(self.end - start, 0) if self.committed is not None else self.end


def group_lag(group_id: str, topics: Iterable[str], timeout: float = 10.0) -> list[PartitionLag]:
    consumer = Consumer(client_config(**{"group.id": group_id, "enable.auto.commit": False}))
    try:
        metadata = consumer.list_topics(timeout=timeout)
        partitions = [
            TopicPartition(topic, pid)
            for topic in topics
            if topic in metadata.topics and metadata.topics[topic].error is None
            for pid in sorted(metadata.topics[topic].partitions)
        ]
        committed = consumer.committed(partitions, timeout=timeout) if partitions else []
        rows = []
        for tp in committed:
            _, high = consumer.get_watermark_offsets(TopicPartition(tp.topic, tp.partition), timeout=timeout)
            rows.append(PartitionLag(tp.topic, tp.partition, tp.offset if tp.offset >= 0 else None, high))
        return rows
    finally:
        consumer.close()
