"""Pages served by the service: the end-user inbox demo and the operator dashboard."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta
from typing import Any

import jwt
from django.contrib.admin.views.decorators import staff_member_required
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from notifications.api.auth import inbox_jwt_secret
from notifications.audiences.progress import open_and_finished, with_record_counts
from notifications.conf import get_setting
from notifications.delivery.models import NotificationRecord
from notifications.delivery.requeue import requeue
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.kafka.config import kafka_configured
from notifications.observability import record_counts


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/index.html", {
        "event_types": event_registry.event_types, "demo": get_setting("INBOX_DEMO", False),
    })


def inbox_page(request: HttpRequest) -> HttpResponse:
    """The inbox widget. With a `token` query parameter it uses it; in demo mode it fetches one for `user`."""
    return render(request, "notifications/inbox.html", {
        "demo": get_setting("INBOX_DEMO", False),
        "tenant_id": get_setting("DEMO_TENANT_ID", "demo"),
    })


def demo_token(request: HttpRequest) -> JsonResponse:
    if not get_setting("INBOX_DEMO", False):
        raise Http404("the inbox demo is off (NOTIFICATIONS_INBOX_DEMO)")
    user_id = (request.GET.get("user") or "demo-user")[:128]
    tenant_id = get_setting("DEMO_TENANT_ID", "demo")
    token = jwt.encode({"sub": user_id, "tenant_id": tenant_id, "exp": int(time.time()) + 3600},
                       inbox_jwt_secret(), algorithm="HS256")
    return JsonResponse({"token": token, "tenant_id": tenant_id, "user_id": user_id})


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "notifications/dashboard.html", {})


@staff_member_required
def dashboard_data(request: HttpRequest) -> JsonResponse:
    hours = min(max(int(request.GET.get("hours", 24)), 1), 24 * 14)
    since = timezone.now() - timedelta(hours=hours)
    groups = record_counts.window(since)  # counted by the hour as records change (observability/record_counts.py)
    charted: Counter[tuple[Any, str, str]] = Counter()
    failed_by: Counter[str] = Counter()
    withheld_by: Counter[str] = Counter()
    for row in groups:
        if row["status"] in (Status.SENT, Status.FAILED):
            charted[(row["hour"], row["channel"], row["status"])] += row["count"]
        if row["status"] == Status.FAILED:
            failed_by[row["reason"]] += row["count"]
        elif row["status"] == Status.CANCELLED:
            withheld_by[row["reason"]] += row["count"]
    series = [{"hour": hour.isoformat(), "channel": channel, "status": status, "count": count}
              for (hour, channel, status), count in sorted(charted.items(), key=lambda item: item[0][0])]
    reasons = [{"reason": reason, "count": count} for reason, count in failed_by.most_common(10)]
    failures = [  # the latest, through the partial index of failed records
        {"id": r.pk, "tenant_id": r.tenant_id, "event_type": r.event_type, "channel": r.channel,
         "reason": r.reason, "attempts": r.attempts, "updated_at": r.updated_at.isoformat()}
        for r in NotificationRecord.objects.filter(status=Status.FAILED).order_by("-updated_at")[:20]
    ]
    # Why notifications wait (every scheduled record, through the claim's partial index: held for its time, for
    # quiet hours, for a digest) and why those of the window ended unsent (cancelled, superseded).
    waiting = list(NotificationRecord.objects.filter(status=Status.SCHEDULED).values("reason")
                   .annotate(count=Count("id")).order_by("-count"))
    withheld = [{"reason": reason, "count": count} for reason, count in withheld_by.most_common()]
    # Fan-outs: the open jobs and the last finished, from the job rows; records counted for the 3 newest only.
    # A GROUP BY over each job's records (a million: 0.83 s), given up after 300 ms: the panel then shows none.
    fanouts = with_record_counts(open_and_finished(finished=5), most=3, budget_ms=300)
    return JsonResponse({"hours": hours, "series": series, "reasons": reasons, "failures": failures,
                         "waiting": waiting, "withheld": withheld, "lag": _lag(), "fanouts": fanouts})


def _lag() -> dict[str, Any]:
    if not kafka_configured():
        return {"configured": False, "partitions": []}
    from notifications.kafka.admin import group_lag

    try:
        rows = group_lag(get_setting("KAFKA_GROUP_ID"), get_setting("KAFKA_TOPICS"), timeout=3)
    except Exception as err:  # noqa: BLE001 - the dashboard shows the problem instead of failing
        return {"configured": True, "error": type(err).__name__, "partitions": []}
    return {"configured": True, "total": sum(r.lag for r in rows),
            "partitions": [{"topic": r.topic, "partition": r.partition, "lag": r.lag} for r in rows]}


@staff_member_required
@require_POST
def dashboard_retry(request: HttpRequest, record_id: int) -> JsonResponse:
    record = get_object_or_404(NotificationRecord, pk=record_id)
    if not requeue(NotificationRecord.objects.filter(pk=record.pk)):
        return JsonResponse({"id": record.pk, "error": "only failed or retrying records"}, status=409)
    return JsonResponse({"id": record.pk, "status": "pending"})
