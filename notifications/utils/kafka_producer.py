"""`await publish_event(topic, event)` as the guide shows, and `publish_event_sync`.

With KAFKA_BOOTSTRAP_SERVERS set, the event goes to Kafka through an idempotent producer (acks=all), keyed
'tenant_id:user_id'; the call returns once the broker confirmed it, or raises KafkaPublishError.
Without it, the event is fed to local intake in this process (said once in the log), so the guide's snippets
work on the embedded default.

Both give the event an `event_id` (a UUID of its content, written into the caller's dict) when it has none, and
return it: a
caller that retries after a timeout, with the same dict or with the returned id, is deduplicated by intake even
if it rebuilt the timestamp. The returned `PublishedEvent` is that id (a str); locally its `.result` is the
intake result (processed, rejected with a reason, or duplicate), on Kafka None."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import OrderedDict
from typing import Any

from asgiref.sync import sync_to_async

from notifications.intake.results import IntakeResult
from notifications.kafka.config import kafka_configured
from notifications.utils.jsonable import to_jsonable

logger = logging.getLogger(__name__)
_said_local = threading.Event()

__all__ = ["PublishedEvent", "ensure_event_id", "publish_event", "publish_event_sync", "to_jsonable"]


class PublishedEvent(str):
    """The published event's `event_id`, and `.result`: the local intake's result (None when sent to Kafka)."""

    result: IntakeResult | None

    def __new__(cls, event_id: str, result: IntakeResult | None = None) -> PublishedEvent:
        published = super().__new__(cls, event_id)
        published.result = result
        return published


def ensure_event_id(event: Any) -> str:
    """The event's `event_id`, first set to a new UUID in the caller's dict when it has none (missing, None or
    empty), so that publishing the same dict again is the same event. An event that is not a dict is left as it
    is (intake rejects it) and gets no id: ''."""
    if not isinstance(event, dict):
        return ""
    given = event.get("event_id")
    if given in (None, "") or _reused(given, event):
        event["event_id"] = given = _content_id(event)
        _remember(given, event)
    return str(given)


# The ids given here, with what their event held besides its timestamp: a dict published again with the same
# content is a retry (the same id, even with a rebuilt timestamp); a dict reused for another event (another user,
# another payload) gets a new id instead of being answered `duplicate`. Bounded: the most recent ids only.
_given: OrderedDict[str, str] = OrderedDict()
_given_lock = threading.Lock()
_GIVEN_MAX = 10_000


def _fingerprint(event: dict[str, Any]) -> str:
    rest = {key: value for key, value in event.items() if key not in ("event_id", "timestamp")}
    try:
        return json.dumps(to_jsonable(rest), sort_keys=True, separators=(",", ":"))
    except (TypeError, ValueError):
        return repr(rest)


def _reused(event_id: Any, event: dict[str, Any]) -> bool:
    with _given_lock:
        before = _given.get(str(event_id))
    return before is not None and before != _fingerprint(event)


def _remember(event_id: str, event: dict[str, Any]) -> None:
    fingerprint = _fingerprint(event)
    with _given_lock:
        _given[event_id] = fingerprint
        _given.move_to_end(event_id)
        while len(_given) > _GIVEN_MAX:
            _given.popitem(last=False)


# Derived from the event's content (timestamp included), not random: a caller that rebuilds the same event from
# scratch, timestamp and all, gets the same id, as intake's content hash deduplicated such events before ids
# were set here; a caller that keeps the dict or the returned id is deduplicated whatever it rebuilds.
_EVENT_IDS = uuid.UUID("6f3d1c1e-4b57-5f0e-9a4a-7d2f3e1b9c10")


def _content_id(event: dict[str, Any]) -> str:
    try:
        canonical = json.dumps(to_jsonable({k: v for k, v in event.items() if k != "event_id"}), sort_keys=True,
                               separators=(",", ":"))
    except (TypeError, ValueError):  # not JSON at all: intake will say why; the id only has to be new
        return str(uuid.uuid4())
    return str(uuid.uuid5(_EVENT_IDS, canonical))


def _local(topic: str, event: dict[str, Any]) -> IntakeResult:
    if not _said_local.is_set():
        _said_local.set()
        logger.info("KAFKA_BOOTSTRAP_SERVERS is not set: publish_event feeds local intake in this process")
    from notifications.intake.service import process_events

    return process_events([to_jsonable(event)], source=topic)[0]


def publish_event_sync(topic: str, event: dict[str, Any]) -> PublishedEvent:
    """Publish one event and wait for it to be confirmed (Kafka) or taken in (local); returns its event_id."""
    event_id = ensure_event_id(event)
    if not kafka_configured():
        return PublishedEvent(event_id, _local(topic, event))
    from notifications.kafka.producer import encode_event, message_key, shared_producer

    shared_producer().publish(topic, encode_event(event), key=message_key(event))
    return PublishedEvent(event_id)


async def publish_event(topic: str, event: dict[str, Any]) -> PublishedEvent:
    """The guide's `await publish_event(topic, event)`; returns the event's event_id (set when it had none)."""
    event_id = ensure_event_id(event)
    if not kafka_configured():
        return PublishedEvent(event_id, await sync_to_async(_local, thread_sensitive=True)(topic, event))
    from notifications.kafka.producer import encode_event, message_key, shared_producer

    await shared_producer().publish_async(topic, encode_event(event), key=message_key(event))
    return PublishedEvent(event_id)
