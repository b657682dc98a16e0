"""How far a fan-out is: the job's own counts (recipients total and written, records written, skipped by reason,
kept by the runner with each chunk) and, for one job at a time, what became of its records since (sent, failed,
cancelled, still waiting), read from the records in one GROUP BY over the event's (the record_unique_delivery
index leads with event_id).

Lists read the job rows only, never `recipients` (a list may hold 100,000 user ids) and never the records: a list
must not count a million records per row. The API, the dashboard and `manage.py fanout` all answer from here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Count, Q, QuerySet

from notifications.audiences.models import OPEN_STATES, FanOut
from notifications.delivery.models import CLAIMABLE, NotificationRecord
from notifications.enums import Status

__all__ = ["JOB_FIELDS", "fanout_status", "fanouts", "job_fields", "open_and_finished", "recent_fanouts",
           "record_counts", "with_record_counts"]

#: The columns a list reads (not `recipients`, not the runner's cursor and failure count).
JOB_FIELDS = ("id", "tenant_id", "event_id", "event_type", "audience", "topic_key", "state", "total", "written",
              "records", "skipped", "error", "created_at", "started_at", "finished_at")


def fanouts(tenant_id: str | None = None) -> QuerySet[FanOut]:
    """The jobs (of one tenant), newest first, without their recipient lists."""
    query = FanOut.objects.only(*JOB_FIELDS).order_by("-created_at", "-id")
    return query.filter(tenant_id=tenant_id) if tenant_id is not None else query


def percent(written: int, total: int | None) -> float | None:
    """written/total in percent, one decimal; None while the total is unknown (counted by the first chunk)."""
    if total is None:
        return None
    return 100.0 if total == 0 else round(min(written, total) * 100 / total, 1)


def job_fields(job: FanOut) -> dict[str, Any]:
    """What the job row says: no record counts."""
    return {
        "id": job.pk, "tenant_id": job.tenant_id, "event_id": str(job.event_id), "event_type": job.event_type,
        "audience": job.audience, "topic_key": job.topic_key, "state": job.state, "total": job.total,
        "written": job.written, "percent": percent(job.written, job.total), "records": job.records,
        "skipped": dict(job.skipped or {}), "error": job.error, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
    }


def recent_fanouts(tenant_id: str | None = None, limit: int = 20,
                   before: tuple[datetime, int] | None = None) -> list[dict[str, Any]]:
    """The newest jobs (of one tenant), job fields only; `before` (created_at, id) continues a page."""
    query = fanouts(tenant_id)
    if before is not None:
        created_at, pk = before
        query = query.filter(Q(created_at__lt=created_at) | Q(created_at=created_at, id__lt=pk))
    return [job_fields(job) for job in query[:limit]]


def record_counts(jobs: Iterable[FanOut | dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per job's event (as text): sent, failed, cancelled and waiting records, in one GROUP BY over the jobs'
    events. Each job is a FanOut or a job_fields dict."""
    wanted: dict[str, set[str]] = {}
    for job in jobs:
        tenant_id, event_id = ((job["tenant_id"], job["event_id"]) if isinstance(job, dict)
                               else (job.tenant_id, job.event_id))
        wanted.setdefault(tenant_id, set()).add(str(event_id))
    counts: dict[str, Counter[str]] = {event: Counter() for events in wanted.values() for event in events}
    if not wanted:
        return {}
    scope = Q()
    for tenant_id, events in wanted.items():
        scope |= Q(tenant_id=tenant_id, event_id__in=sorted(events))
    rows = (NotificationRecord.objects.filter(scope).order_by().values("event_id", "status")
            .annotate(n=Count("id")).values_list("event_id", "status", "n"))
    for event_id, status, n in rows:
        counts[str(event_id)][status] += n
    return {event: _summary(counter) for event, counter in counts.items()}


def _summary(by_status: Counter[str]) -> dict[str, int]:
    return {"sent": by_status[Status.SENT], "failed": by_status[Status.FAILED],
            "cancelled": by_status[Status.CANCELLED], "waiting": sum(by_status[status] for status in CLAIMABLE)}


def fanout_status(job: FanOut) -> dict[str, Any]:
    """The job's fields and its records' outcome so far (one GROUP BY over the event's records)."""
    fields = job_fields(job)
    return {**fields, **record_counts([fields])[fields["event_id"]]}


def with_record_counts(rows: list[dict[str, Any]], most: int = 5, budget_ms: int | None = None,
                       ) -> list[dict[str, Any]]:
    """The rows, the `most` newest of them with sent/failed/cancelled/waiting (one query for them all); the
    others with None there. `budget_ms` (PostgreSQL): the count is given up after that long, and every row has
    None there (a finished million-recipient fan-out's records took 0.83 s to count: bench/README.md)."""
    newest = sorted(rows, key=lambda row: (row["created_at"], row["id"]), reverse=True)[:most]
    counts = _within(budget_ms, lambda: record_counts(newest))
    empty = dict.fromkeys(("sent", "failed", "cancelled", "waiting"))
    return [{**row, **counts.get(row["event_id"], empty)} for row in rows]


def _within(budget_ms: int | None, count: Callable[[], dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    if budget_ms is None or connection.vendor != "postgresql":
        return count()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout'), set_config('statement_timeout', %s, true)",
                           [str(budget_ms)])
            previous = cursor.fetchone()[0]
            counted = count()
            # Inside a caller's transaction, releasing the savepoint would keep the setting for what follows.
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [previous])
            return counted
    except OperationalError:  # the timeout cancelled it: no counts this time
        return {}


def open_and_finished(finished: int = 5, most_open: int = 20) -> list[dict[str, Any]]:
    """Every tenant's open jobs (the `most_open` newest) and the `finished` newest of the others (the dashboard):
    job rows only, two queries, each stopping early (the open jobs' partial index, the primary key backwards)."""
    open_jobs = fanouts().filter(state__in=OPEN_STATES).order_by("-id")[:most_open]
    done = fanouts().exclude(state__in=OPEN_STATES).order_by("-id")[:finished]
    return [job_fields(job) for job in [*open_jobs, *done]]
