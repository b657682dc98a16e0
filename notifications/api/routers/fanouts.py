"""Fan-outs (notifications/audiences), scoped by the API key's tenant: the list of the tenant's jobs (job fields
only, newest first, cursor pages over the (tenant, created_at) index) and one job's status with its records'
outcome so far (notifications.audiences.progress). Another tenant's job is a 404."""

import base64
import binascii
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from ninja import Field, Router, Schema
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.audiences.progress import fanout_status, fanouts, recent_fanouts
from notifications.storable import RowId, Storable

router = Router(tags=["fan-outs"])
#: Mounted at /events: `GET /events/{event_id}/fanout`, the fan-out of the event POST /events answered.
event_router = Router(tags=["fan-outs"])

CURSOR_LENGTH = 64  # base64 of "<created_at ISO 8601>|<id>"
Cursor = Annotated[str, Storable(CURSOR_LENGTH)]
Limit = Annotated[int, Field(ge=1, le=100)]


class FanOutItemOut(Schema):
    id: int
    event_id: UUID
    event_type: str
    audience: str = Field(description="recipients, topic or all")
    topic_key: str
    state: str = Field(description="pending, running, done, cancelled or failed")
    total: int | None = Field(description="Recipients, counted when the first chunk runs; null until then")
    written: int = Field(description="Recipients whose records are written")
    percent: float | None = Field(description="written/total in percent; null while total is unknown")
    records: int = Field(description="Records written (one per recipient and channel)")
    skipped: dict[str, int] = Field(description="Skipped records by reason")
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class FanOutOut(FanOutItemOut):
    sent: int = Field(description="Records sent so far")
    failed: int
    cancelled: int
    waiting: int = Field(description="Records not final yet: pending, scheduled, retrying or sending")


class FanOutPageOut(Schema):
    items: list[FanOutItemOut]
    next_cursor: str | None


def _encode(row: dict[str, Any]) -> str:
    text = f"{row['created_at'].astimezone(UTC).isoformat()}|{row['id']}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        moment, pk = base64.urlsafe_b64decode(cursor.encode() + b"==").decode().split("|")
        created_at, job_id = datetime.fromisoformat(moment), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError) as err:
        raise HttpError(422, "cursor: invalid cursor") from err
    if created_at.tzinfo is None or not 1970 <= created_at.year <= 9000 or not 0 < job_id < 2**62:
        raise HttpError(422, "cursor: invalid cursor")
    return created_at, job_id


@router.get("", response=FanOutPageOut, summary="List fan-outs (newest first)")
def list_fanouts(request: TenantRequest, cursor: Cursor | None = None, limit: Limit = 20):
    """The tenant's fan-out jobs with their own counts; sent and failed are only in GET /fanouts/{id} (a list
    does not count each job's records)."""
    rows = recent_fanouts(request.auth.tenant_id, limit + 1, before=_decode(cursor))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": _encode(rows[-1]) if more else None}


@router.get("/{int:fanout_id}", response=FanOutOut, summary="A fan-out's progress and its records' outcome")
def get_fanout(request: TenantRequest, fanout_id: RowId):
    job = fanouts(request.auth.tenant_id).filter(pk=fanout_id).first()
    if job is None:
        raise HttpError(404, f"no fan-out {fanout_id}")
    return fanout_status(job)


@event_router.get("/{event_id}/fanout", response=FanOutOut, summary="The fan-out of an audience event")
def get_event_fanout(request: TenantRequest, event_id: UUID):
    """`event_id` as POST /events answered it. 404 when the tenant has no such event or it was not addressed to
    an audience."""
    job = fanouts(request.auth.tenant_id).filter(event_id=event_id).first()
    if job is None:
        raise HttpError(404, f"no fan-out for event {event_id}")
    return fanout_status(job)
