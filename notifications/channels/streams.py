"""Live inbox streams (Server-Sent Events): what one stream sends, and how many may be open at once.

A stream waits on asyncio alone. Its few database reads (the unread count on connect and after each change,
the new messages) run in the event loop's shared executor and hand their connection back at once, so an idle
stream holds neither a thread nor a database connection. The caps are per web process (settings
NOTIFICATIONS_INBOX_STREAMS_PER_USER, _PER_TENANT); `manage.py serve` with N processes bounds a user to N times
the cap at most."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from collections.abc import AsyncGenerator, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import connection

from notifications.channels.realtime import hub
from notifications.conf import get_setting

HEARTBEAT_SECONDS = 15.0
T = TypeVar("T")
K = TypeVar("K")


def _release_one(counter: Counter[K], key: K) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]


class StreamLimits:
    """Counts the live streams of each user and each tenant in this process; refuses one beyond a cap."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: Counter[tuple[str, str]] = Counter()
        self._tenants: Counter[str] = Counter()

    def acquire(self, tenant_id: str, user_id: str) -> str | None:
        """Takes a slot and returns None, or returns why not (and takes nothing)."""
        per_user = int(get_setting("INBOX_STREAMS_PER_USER", 5))
        per_tenant = int(get_setting("INBOX_STREAMS_PER_TENANT", 1000))
        with self._lock:
            if self._users[(tenant_id, user_id)] >= per_user:
                return f"too many live streams for this user (at most {per_user}); close one first"
            if self._tenants[tenant_id] >= per_tenant:
                return f"too many live streams for this tenant (at most {per_tenant}); retry later"
            self._users[(tenant_id, user_id)] += 1
            self._tenants[tenant_id] += 1
        return None

    def release(self, tenant_id: str, user_id: str) -> None:
        with self._lock:
            _release_one(self._users, (tenant_id, user_id))
            _release_one(self._tenants, tenant_id)

    def open_streams(self, tenant_id: str, user_id: str | None = None) -> int:
        with self._lock:
            return self._users[(tenant_id, user_id)] if user_id is not None else self._tenants[tenant_id]


limits = StreamLimits()


async def run_db(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in the loop's shared executor, its connection handed back (to the pool) when it returns:
    no thread of the stream's own, no connection held while the stream waits."""

    def call() -> T:
        try:
            return function(*args)
        finally:
            connection.close()

    return await sync_to_async(call, thread_sensitive=False)()


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


async def inbox_events(tenant_id: str, user_id: str, expires_at: float, unread: Callable[[str, str], int],
                       load: Callable[[list[int]], list[dict[str, Any]]]) -> AsyncGenerator[str, None]:
    """`event: count` ({unread}) on connect and whenever it changes; `event: message` for each new message; a
    comment line every 15 s keeps proxies from closing the connection; `event: expired` when the token does."""
    queue = hub.subscribe(tenant_id, user_id)
    try:
        yield ": connected\n\n"
        yield sse("count", {"unread": await run_db(unread, tenant_id, user_id)})
        while True:
            left = expires_at - time.time()
            if left <= 0:  # the token expired: the client reconnects with a fresh one
                yield sse("expired", {})
                return
            try:
                change = await asyncio.wait_for(queue.get(), min(HEARTBEAT_SECONDS, left))
            except TimeoutError:
                yield ": ping\n\n"
                continue
            if change.get("type") == "messages":
                for message in await run_db(load, change.get("ids", [])):
                    yield sse("message", message)
            yield sse("count", {"unread": await run_db(unread, tenant_id, user_id)})
    finally:
        hub.unsubscribe(tenant_id, user_id, queue)
