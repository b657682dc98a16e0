"""Realtime fan-out of inbox changes to open SSE streams.

In one process (SQLite, the embedded default) changes go straight to the hub. On PostgreSQL every change is a
NOTIFY on channel `notifications_inbox`, and each web process LISTENs and feeds its own hub, so a message taken
in by a consumer process reaches a browser connected to any web process."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections import defaultdict
from typing import Any

import orjson
from django.db import connection

logger = logging.getLogger(__name__)
PG_CHANNEL = "notifications_inbox"


class InboxHub:
    def __init__(self) -> None:
        self._subscribers: dict[tuple[str, str], set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]]] = (
            defaultdict(set)
        )
        self._lock = threading.Lock()

    def subscribe(self, tenant_id: str, user_id: str) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers[(tenant_id, user_id)].add((asyncio.get_running_loop(), queue))
        ensure_listener()
        return queue

    def unsubscribe(self, tenant_id: str, user_id: str, queue: asyncio.Queue) -> None:
        with self._lock:
            subscribers = self._subscribers.get((tenant_id, user_id), set())
            subscribers.difference_update({item for item in subscribers if item[1] is queue})
            if not subscribers:
                self._subscribers.pop((tenant_id, user_id), None)

    def publish(self, tenant_id: str, user_id: str, event: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers.get((tenant_id, user_id), ()))
        for loop, queue in targets:
            try:
                loop.call_soon_threadsafe(_offer, queue, event)
            except RuntimeError:  # the stream's loop is gone
                continue

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(v) for v in self._subscribers.values())


def _offer(queue: asyncio.Queue, event: dict[str, Any]) -> None:
    try:
        queue.put_nowait(event)
    except asyncio.QueueFull:
        logger.warning("an inbox stream is not reading; dropping an update")


hub = InboxHub()


def _is_postgres() -> bool:
    return connection.vendor == "postgresql"


def announce(tenant_id: str, user_id: str, event: dict[str, Any]) -> None:
    """Tell every stream of this user about a change (call after the change is committed)."""
    if _is_postgres():
        payload = json.dumps({"tenant_id": tenant_id, "user_id": user_id, "event": event})
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_notify(%s, %s)", [PG_CHANNEL, payload])
    else:
        hub.publish(tenant_id, user_id, event)


_listener: threading.Thread | None = None
_listener_lock = threading.Lock()


def ensure_listener() -> None:
    """Start this process's LISTEN thread (PostgreSQL only), once."""
    global _listener
    if not _is_postgres():
        return
    with _listener_lock:
        if _listener is not None and _listener.is_alive():
            return
        _listener = threading.Thread(target=_listen_forever, name="inbox-listen", daemon=True)
        _listener.start()


def _listen_forever() -> None:
    import time

    from notifications.db import listening_connection

    while True:
        try:
            with listening_connection(PG_CHANNEL) as conn:
                for notify in conn.notifies():
                    try:
                        data = json.loads(notify.payload)
                        if "changes" in data:
                            for tenant_id, user_id, event in data["changes"]:
                                hub.publish(tenant_id, user_id, event)
                        else:
                            hub.publish(data["tenant_id"], data["user_id"], data["event"])
                    except (ValueError, KeyError, TypeError):
                        logger.warning("ignored a malformed inbox notification")
        except Exception:
            logger.exception("inbox LISTEN connection lost; reconnecting in 2s")
            time.sleep(2)


def announce_many(changes: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Several users' changes. On PostgreSQL they are packed into as few NOTIFY payloads as fit (8 kB each):
    one notification per change was, at volume, most of what the commit of an intake batch cost."""
    if not changes:
        return
    if not _is_postgres():
        for tenant_id, user_id, event in changes:
            hub.publish(tenant_id, user_id, event)
        return
    payloads: list[bytes] = []
    pack: list[bytes] = []
    size = 0
    for tenant_id, user_id, event in changes:
        item = orjson.dumps([tenant_id, user_id, event])
        if len(item) > _PACK_LIMIT:
            logger.warning("an inbox change too large to announce was dropped")
            continue
        if pack and size + len(item) + 1 > _PACK_LIMIT:
            payloads.append(b'{"changes":[' + b",".join(pack) + b"]}")
            pack, size = [], 0
        pack.append(item)
        size += len(item) + 1
    if pack:
        payloads.append(b'{"changes":[' + b",".join(pack) + b"]}")
    # One text parameter split in SQL: JSON text never holds a raw U+001F. A text[] parameter was quoted element
    # by element on the client, a tenth of what intake cost.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, p) FROM unnest(string_to_array(%s, chr(31))) AS p",
                       [PG_CHANNEL, b"\x1f".join(payloads).decode()])


_PACK_LIMIT = 7800  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more


def on_inbox_messages_created(sender: Any, groups: list[tuple[str, str, list[int]]], **kwargs: Any) -> None:
    announce_many([(tenant_id, user_id, {"type": "messages", "ids": ids}) for tenant_id, user_id, ids in groups])
