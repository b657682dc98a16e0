"""GET /api/v1/history/export: the calling tenant's history (notifications/history) streamed as JSON Lines or CSV,
secrets masked. Parquet is the command's (`manage.py export_history`): it needs a file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Literal

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils import timezone
from ninja import Query, Router
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.api.times import bounded_time
from notifications.history.export import ExportQuery, export_rows
from notifications.history.formats import CONTENT_TYPES, stream
from notifications.storable import EventType

router = Router(tags=["history"])

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Event types one export may name.
MAX_TYPES = 100


@router.get("/export", response={200: None})
def export_history(request: TenantRequest, since: datetime | None = None, until: datetime | None = None,
                   format: Literal["jsonl", "csv"] = "jsonl",
                   event_type: list[EventType] = Query(default=[], max_length=MAX_TYPES)):
    """Events received in [since, until) with their records and attempts, one row each, in the order received.
    Streamed as it is read: memory does not grow with the range. Without `since`, from the first event kept;
    without `until`, up to now."""
    start = bounded_time(since, "since") if since is not None else EPOCH
    end = bounded_time(until, "until") if until is not None else timezone.now()
    try:
        query = ExportQuery(request.auth.tenant_id, start, end, tuple(event_type))
    except ValueError as err:
        raise HttpError(422, str(err)) from err
    pieces = stream(export_rows(query), format)
    response = StreamingHttpResponse(_async(pieces) if isinstance(request, ASGIRequest) else pieces,
                                     content_type=CONTENT_TYPES[format])
    stamp = f"{query.since:%Y%m%dT%H%M%SZ}-{query.until:%Y%m%dT%H%M%SZ}"
    response["Content-Disposition"] = f'attachment; filename="history-{stamp}.{format}"'
    return response


async def _async(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    """The pieces for an ASGI server, one at a time. Given a plain generator, Django's ASGI handler gathers all of
    it into a list before sending a byte (a million rows: the whole export in memory). Each piece is made on the
    one thread the request's database work runs on (thread_sensitive), where the export's cursor lives."""
    take = sync_to_async(lambda: next(pieces, None), thread_sensitive=True)
    while (piece := await take()) is not None:
        yield piece
