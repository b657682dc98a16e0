"""The end-user inbox: list, counts, read state, archive, and a Server-Sent Events stream."""


import base64
from collections.abc import AsyncIterator
from functools import partial
from typing import Annotated, Any

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.db import connection, transaction
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router
from ninja.errors import HttpError

from notifications.api.auth import InboxAuth, InboxRequest
from notifications.api.schemas import CountOut, InboxMessageOut, InboxPageOut
from notifications.channels.models import InAppMessage
from notifications.channels.realtime import announce
from notifications.channels.streams import inbox_events, limits
from notifications.storable import RowId, Storable

router = Router(tags=["inbox (end users)"], auth=InboxAuth())


def _mine(request: InboxRequest) -> Any:
    return InAppMessage.objects.filter(tenant_id=request.auth.tenant_id, user_id=request.auth.user_id)


def _out(message: InAppMessage) -> dict[str, Any]:
    return {"id": message.pk, "event_type": message.event_type, "title": message.title, "body": message.body,
            "action_url": message.action_url, "created_at": message.created_at,
            "read": message.read_at is not None, "archived": message.archived_at is not None}


def _unread(tenant_id: str, user_id: str) -> int:
    return InAppMessage.objects.filter(tenant_id=tenant_id, user_id=user_id, read_at__isnull=True,
                                       archived_at__isnull=True).count()


def _count_changed(request: InboxRequest) -> None:
    tenant_id, user_id = request.auth.tenant_id, request.auth.user_id
    transaction.on_commit(lambda: announce(tenant_id, user_id, {"type": "count"}))


CURSOR_LENGTH = 32  # base64 of a message id
Cursor = Annotated[str, Storable(CURSOR_LENGTH)]


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode())
    except (ValueError, UnicodeDecodeError) as err:
        raise HttpError(422, "invalid cursor") from err
    if not 0 < value < 2**62:
        raise HttpError(422, "invalid cursor")
    return value


@router.get("/messages", response=InboxPageOut)
def list_messages(request: InboxRequest, cursor: Cursor | None = None,
                  limit: Annotated[int, Field(ge=1, le=100)] = 20, unread: bool = False, archived: bool = False):
    query = _mine(request).filter(archived_at__isnull=not archived).order_by("-id")
    if unread:
        query = query.filter(read_at__isnull=True)
    before = _decode_cursor(cursor)
    if before is not None:
        query = query.filter(id__lt=before)
    items = list(query[: limit + 1])
    more = len(items) > limit
    items = items[:limit]
    next_cursor = base64.urlsafe_b64encode(str(items[-1].pk).encode()).decode().rstrip("=") if more else None
    return {"items": [_out(m) for m in items], "next_cursor": next_cursor,
            "unread": _unread(request.auth.tenant_id, request.auth.user_id)}


@router.get("/unread-count", response=CountOut)
def unread_count(request: InboxRequest):
    return {"unread": _unread(request.auth.tenant_id, request.auth.user_id)}


@router.post("/messages/{int:message_id}/read", response=InboxMessageOut)
def mark_read(request: InboxRequest, message_id: RowId):
    message = get_object_or_404(_mine(request), pk=message_id)
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])
        _count_changed(request)
    return _out(message)


@router.post("/read-all", response=CountOut)
def mark_all_read(request: InboxRequest):
    changed = _mine(request).filter(read_at__isnull=True).update(read_at=timezone.now())
    if changed:
        _count_changed(request)
    return {"unread": _unread(request.auth.tenant_id, request.auth.user_id)}


@router.post("/messages/{int:message_id}/archive", response=InboxMessageOut)
def archive(request: InboxRequest, message_id: RowId):
    message = get_object_or_404(_mine(request), pk=message_id)
    if message.archived_at is None:
        message.archived_at = timezone.now()
        message.read_at = message.read_at or message.archived_at
        message.save(update_fields=["archived_at", "read_at"])
        _count_changed(request)
    return _out(message)


def load_messages(tenant_id: str, user_id: str, ids: list[int]) -> list[dict[str, Any]]:
    return [_out(m) for m in InAppMessage.objects.filter(tenant_id=tenant_id, user_id=user_id, pk__in=ids)
            .order_by("id")]


def _hand_back_connection() -> None:
    connection.close()


@router.get("/stream", summary="Server-Sent Events: new messages and unread-count changes")
async def stream(request: InboxRequest):
    """`event: count` ({unread}) on connect and whenever it changes; `event: message` for each new message;
    a comment line every 15 s keeps proxies from closing the connection. EventSource clients pass the token as
    `?token=`. A user may hold NOTIFICATIONS_INBOX_STREAMS_PER_USER live streams (5) and a tenant
    NOTIFICATIONS_INBOX_STREAMS_PER_TENANT (1,000), per web process; one more is refused with 429 and a JSON
    `detail` (an EventSource then stops instead of reconnecting). Under `manage.py serve` (or any ASGI server
    given notification_service.asgi:application) this path is served on the event loop ahead of Django
    (notifications.api.stream_asgi): an idle stream holds no thread and no database connection."""
    if not isinstance(request, ASGIRequest):
        return HttpResponse("the inbox stream needs an ASGI server (manage.py serve, uvicorn)", status=501,
                            content_type="text/plain")
    tenant_id, user_id = request.auth.tenant_id, request.auth.user_id
    # The token check ran in this request's thread: hand its connection back, or the stream keeps it for life.
    await sync_to_async(_hand_back_connection)()
    refusal = limits.acquire(tenant_id, user_id)
    if refusal:
        return JsonResponse({"detail": refusal}, status=429)

    async def events() -> AsyncIterator[str]:
        try:
            async for chunk in inbox_events(tenant_id, user_id, request.auth.expires_at, _unread,
                                            partial(load_messages, tenant_id, user_id)):
                yield chunk
        finally:
            limits.release(tenant_id, user_id)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
