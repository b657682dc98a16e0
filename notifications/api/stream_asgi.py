"""`GET /api/v1/inbox/stream` served on the event loop, ahead of Django's ASGI handler.

Django's handler gives every request a thread of its own for the request's sync parts (the request_started
signal, the token check) and keeps it until the response ends: a stream open for an hour held a parked thread
for an hour. Here the token is checked in the loop's shared executor (its connection handed back at once), the
caps are taken, and the stream then waits on asyncio alone until the client leaves or the token expires. The
same endpoint stays in the API's schema (notifications.api.routers.inbox.stream, the fallback when the Django
application is served without this wrapper)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any
from urllib.parse import parse_qs

import orjson
from django.db import OperationalError

from notifications.channels.streams import inbox_events, limits, run_db
from notifications.overload import DETAIL, RETRY_AFTER_SECONDS, is_exhausted

logger = logging.getLogger(__name__)

STREAM_PATH = "/api/v1/inbox/stream"
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class InboxStreams:
    """Wraps an ASGI application: the inbox stream here, everything else to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == STREAM_PATH and scope["method"] == "GET":
            await serve_stream(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _token(scope: Scope) -> str | None:
    """`?token=` (EventSource cannot set headers), else `Authorization: Bearer`."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    if values and values[0]:
        return values[0]
    for name, value in scope.get("headers", ()):
        if name == b"authorization":
            scheme, _, credentials = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and credentials.strip():
                return credentials.strip()
    return None


async def _answer(send: Send, status: int, body: dict[str, Any], retry_after: int | None = None) -> None:
    content = orjson.dumps(body)
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(content)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def serve_stream(scope: Scope, receive: Receive, send: Send) -> None:
    from notifications.api.auth import verify_inbox_token
    from notifications.api.routers.inbox import _unread, load_messages

    token = _token(scope)
    try:
        user = await run_db(verify_inbox_token, token) if token else None
    except OperationalError as err:
        if not is_exhausted(err):
            raise
        logger.warning("503 for an inbox stream: no database connection free within the pool's timeout")
        await _answer(send, 503, {"detail": DETAIL}, RETRY_AFTER_SECONDS)
        return
    if user is None:
        await _answer(send, 401, {"detail": "Unauthorized"})
        return
    refusal = limits.acquire(user.tenant_id, user.user_id)
    if refusal:
        await _answer(send, 429, {"detail": refusal})
        return
    try:
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no")]})
        events = inbox_events(user.tenant_id, user.user_id, user.expires_at, _unread,
                              partial(load_messages, user.tenant_id, user.user_id))

        async def pump() -> None:
            async for chunk in events:
                await send({"type": "http.response.body", "body": chunk.encode(), "more_body": True})
            await send({"type": "http.response.body", "body": b""})

        tasks = [asyncio.create_task(pump()), asyncio.create_task(_until_disconnect(receive))]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await events.aclose()
        if not tasks[0].cancelled() and tasks[0].exception() is not None:
            raise tasks[0].exception()  # type: ignore[misc]
    finally:
        limits.release(user.tenant_id, user.user_id)
