"""`await publish_event(topic, event)` as the guide shows, and `publish_event_sync`.

With KAFKA_BOOTSTRAP_SERVERS set, the event goes to Kafka through an idempotent producer (acks=all), keyed
'tenant_id:user_id'; the call returns once the broker confirmed it, or raises KafkaPublishError.
Without it, the event is fed to local intake in this process (said once in the log), so the guide's snippets
work on the embedded default; the intake result is returned then."""

from __future__ import annotations

import logging
import threading
from typing import Any

from asgiref.sync import sync_to_async

from notifications.intake.results import IntakeResult
from notifications.kafka.config import kafka_configured
from notifications.utils.jsonable import to_jsonable

logger = logging.getLogger(__name__)
_said_local = threading.Event()

__all__ = ["publish_event", "publish_event_sync", "to_jsonable"]


def _local(topic: str, event: dict[str, Any]) -> IntakeResult:
    if not _said_local.is_set():
        _said_local.set()
        logger.info("KAFKA_BOOTSTRAP_SERVERS is not set: publish_event feeds local intake in this process")
    from notifications.intake.service import process_events

    return process_events([to_jsonable(event)], source=topic)[0]


def publish_event_sync(topic: str, event: dict[str, Any]) -> IntakeResult | None:
    """Publish one event and wait for it to be confirmed (Kafka) or taken in (local)."""
    if not kafka_configured():
        return _local(topic, event)
    from notifications.kafka.producer import encode_event, message_key, shared_producer

    shared_producer().publish(topic, encode_event(event), key=message_key(event))
    return None


async def publish_event(topic: str, event: dict[str, Any]) -> IntakeResult | None:
    if not kafka_configured():
        return await sync_to_async(_local, thread_sensitive=True)(topic, event)
    from notifications.kafka.producer import encode_event, message_key, shared_producer

    await shared_producer().publish_async(topic, encode_event(event), key=message_key(event))
    return None
