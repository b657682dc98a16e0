
from datetime import datetime, timedelta
from typing import Annotated

from django.db.models import Count
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema
from ninja.errors import HttpError
from ninja.pagination import LimitOffsetPagination, paginate

from notifications.api.auth import TenantRequest
from notifications.api.schemas import RecordDetailOut, StatsOut
from notifications.api.times import bounded_time
from notifications.delivery.models import NotificationRecord
from notifications.delivery.requeue import requeue
from notifications.enums import Status
from notifications.storable import MAX_INT32, ChannelName, EventType, RowId, Storable, UserId

router = Router(tags=["records and stats"])


MAX_STATS_HOURS = 24 * 90
StatusText = Annotated[str, Storable(16)]  # any text: a status that does not exist filters to nothing


class BoundedPagination(LimitOffsetPagination):
    """Limits a database can take (an unbounded integer overflows its LIMIT/OFFSET)."""

    class Input(Schema):
        limit: int = Field(50, ge=1, le=500)
        offset: int = Field(0, ge=0, le=min(10_000_000, MAX_INT32))


@router.get("/records", response=list[RecordDetailOut])
@paginate(BoundedPagination)
def list_records(request: TenantRequest, channel: ChannelName | None = None, status: StatusText | None = None,
                 event_type: EventType | None = None, user_id: UserId | None = None,
                 since: datetime | None = None, until: datetime | None = None):
    query = NotificationRecord.objects.filter(tenant_id=request.auth.tenant_id).order_by("-created_at", "-id")
    for field, value in (("channel", channel), ("status", status), ("event_type", event_type),
                         ("user_id", user_id)):
        if value:
            query = query.filter(**{field: value})
    if since:
        query = query.filter(created_at__gte=bounded_time(since, "since"))
    if until:
        query = query.filter(created_at__lt=bounded_time(until, "until"))
    return query.values(
        "id", "event_id", "event_type", "user_id", "channel", "recipient", "status", "reason", "attempts",
        "provider", "created_at", "sent_at", "next_attempt_at",
    )


@router.post("/records/{int:record_id}/retry", response=RecordDetailOut)
def retry_record(request: TenantRequest, record_id: RowId):
    record = get_object_or_404(NotificationRecord, pk=record_id, tenant_id=request.auth.tenant_id)
    if not requeue(NotificationRecord.objects.filter(pk=record.pk)):
        raise HttpError(409, f"only failed or retrying records can be retried (this one is {record.status})")
    record.refresh_from_db()
    return {f: getattr(record, f) for f in RecordDetailOut.model_fields}


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    index = min(round(share * (len(values) - 1)), len(values) - 1)
    return round(values[index], 3)


@router.get("/stats", response=StatsOut)
def stats(request: TenantRequest, hours: Annotated[int, Field(ge=1, le=MAX_STATS_HOURS)] = 24,
          channel: ChannelName | None = None):
    """The guide's analytics: counts by channel and status over the window, success rate, delivery times
    (from the record's creation to the provider's acceptance)."""
    until = timezone.now()
    since = until - timedelta(hours=hours)
    query = NotificationRecord.objects.filter(tenant_id=request.auth.tenant_id, created_at__gte=since)
    if channel:
        query = query.filter(channel=channel)
    counts = list(query.values("channel", "status").annotate(count=Count("id")).order_by("channel", "status"))
    sent = sum(row["count"] for row in counts if row["status"] == Status.SENT)
    failed = sum(row["count"] for row in counts if row["status"] == Status.FAILED)
    durations = [
        (sent_at - created).total_seconds()
        for created, sent_at in query.filter(status=Status.SENT, sent_at__isnull=False)
        .order_by("-created_at").values_list("created_at", "sent_at")[:100_000]
        if sent_at is not None  # always, by the filter: for the type checker
    ]
    return {
        "since": since, "until": until, "counts": counts, "sent": sent, "failed": failed,
        "success_rate": round(sent / (sent + failed), 4) if sent + failed else None,
        "delivery_seconds_p50": _percentile(durations, 0.50),
        "delivery_seconds_p95": _percentile(durations, 0.95),
    }
