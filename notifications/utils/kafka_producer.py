"""`await publish_event(topic, event)` as the guide shows, and `publish_event_sync`.

Without KAFKA_BOOTSTRAP_SERVERS the event is fed to local intake in this process (said once in the log), so
the guide's snippets work on the embedded default."""

from __future__ import annotations

import logging
import threading
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from asgiref.sync import sync_to_async

from notifications.conf import get_setting
from notifications.errors import NotificationConfigurationError
from notifications.intake.results import IntakeResult

logger = logging.getLogger(__name__)
_said_local = threading.Event()


def to_jsonable(value: Any) -> Any:
    """Datetimes and decimals as the JSON an event carries (ISO 8601 strings, numbers)."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    return value


def _kafka_configured() -> bool:
    return bool(get_setting("KAFKA_BOOTSTRAP_SERVERS", ""))


def publish_event_sync(topic: str, event: dict[str, Any]) -> IntakeResult | None:
    """Publish one event. Locally (no Kafka) the intake result is returned; with Kafka, None once delivered."""
    if _kafka_configured():
        raise NotificationConfigurationError(
            "KAFKA_BOOTSTRAP_SERVERS is set but the Kafka producer is not part of this build yet; "
            "unset it to use local intake"
        )
    if not _said_local.is_set():
        _said_local.set()
        logger.info("KAFKA_BOOTSTRAP_SERVERS is not set: publish_event feeds local intake in this process")
    from notifications.intake.service import process_events

    return process_events([to_jsonable(event)], source=topic)[0]


async def publish_event(topic: str, event: dict[str, Any]) -> IntakeResult | None:
    return await sync_to_async(publish_event_sync, thread_sensitive=True)(topic, event)
