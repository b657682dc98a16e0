"""Intake's part of an audience event: refuse what the tenant cannot address, then record one fan-out job per
event in intake's transaction. The job is durable before the batch's Kafka offsets are stored; a runner
(audiences.runner) writes the recipients' records in chunks afterwards, so one big audience never holds up the
consumer or the events behind it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from notifications.audiences.models import AudienceKind, FanOut, Topic
from notifications.audiences.parse import ALL, TOPIC
from notifications.enums import Outcome, RejectionReason
from notifications.events.envelope import EventRejection, ValidatedEvent
from notifications.intake.results import IntakeResult
from notifications.tenants.limits import ALLOW_BROADCAST
from notifications.tenants.models import Tenant

if TYPE_CHECKING:
    from notifications.intake.planning import Accepted

Indexed = list[tuple[int, ValidatedEvent]]
Topics = dict[tuple[str, str], int]


def refuse_unknown_audiences(valid: Indexed, tenants: Mapping[str, Tenant]
                             ) -> tuple[Indexed, list[tuple[int, EventRejection]], Topics | None]:
    """(events to take in, rejections, the batch's topics by (tenant, key) -> id; None when the batch has no
    audience event, which then costs one pass over it). A topic the tenant has not
    created, and `to_all` from a tenant that has not set settings.allow_broadcast, are refused with the reason
    (kept with the rejected events: reprocessed once the tenant has set them up)."""
    if not any(event.audience is not None for _, event in valid):
        return valid, [], None
    wanted = {(e.tenant_id, e.audience.topic) for _, e in valid if e.audience is not None and e.audience.kind == TOPIC}
    topics: dict[tuple[str, str], int] = {}
    if wanted:
        rows = Topic.objects.filter(tenant_id__in={t for t, _ in wanted}, key__in={k for _, k in wanted})
        topics = {(tenant, key): pk for tenant, key, pk in rows.values_list("tenant_id", "key", "id")
                  if (tenant, key) in wanted}
    kept, refused = [], []
    for index, event in valid:
        audience = event.audience
        problem = None
        if audience is not None and audience.kind == TOPIC and (event.tenant_id, audience.topic) not in topics:
            problem = f"to_topic: tenant {event.tenant_id} has no topic {audience.topic!r} (POST /api/v1/topics)"
        elif audience is not None and audience.kind == ALL and not _allows_broadcast(tenants[event.tenant_id]):
            problem = (f"to_all: tenant {event.tenant_id} does not allow broadcasts (settings.{ALLOW_BROADCAST} is "
                       "off, so a wrong producer cannot reach every contact by accident)")
        if problem is None:
            kept.append((index, event))
        else:
            refused.append((index, EventRejection(RejectionReason.AUDIENCE_REFUSED, problem, event.raw,
                                                  tenant_id=event.tenant_id, event_type=event.event_type)))
    return kept, refused, topics


def _allows_broadcast(tenant: Tenant) -> bool:
    return isinstance(tenant.settings, dict) and tenant.settings.get(ALLOW_BROADCAST) is True


def record_fanouts(accepted: list[Accepted], topics: Mapping[tuple[str, str], int],
                   results: list[IntakeResult | None]) -> tuple[list[Accepted], list[tuple[int, str, str, int]]]:
    """One FanOut per accepted audience event (one bulk insert), each event's result naming it; runners are
    woken once the transaction commits. Returns the other events, planned as usual, and the jobs with a cancel
    key as (index, tenant, key, job id), for the batch's cancels (intake.cancels)."""
    from notifications.audiences.runner import signal_fanout_after_commit

    items = [item for item in accepted if item.event.audience is not None]
    if not items:
        return accepted, []
    jobs = []
    for item in items:
        event, audience = item.event, item.event.audience
        assert audience is not None  # noqa: S101 - only audience events come here
        jobs.append(FanOut(
            tenant_id=event.tenant_id, event_id=item.pk_text, event_type=event.event_type,
            audience=AudienceKind(audience.kind), topic_key=audience.topic,
            topic_id=topics.get((event.tenant_id, audience.topic)) if audience.kind == TOPIC else None,
            recipients=list(audience.recipients), total=len(audience.recipients) if audience.recipients else None,
            cancel_key=event.cancel_key, deliver_at=event.deliver_at,
        ))
    FanOut.objects.bulk_create(jobs)  # RETURNING: each job learns its id (PostgreSQL, SQLite 3.35+)
    for item, job in zip(items, jobs, strict=True):
        event = item.event
        results[item.index] = IntakeResult(outcome=Outcome.PROCESSED, event_type=event.event_type,
                                           tenant_id=event.tenant_id, event_id=item.pk_text, fanout_id=job.pk)
    signal_fanout_after_commit()
    keyed = [(item.index, item.event.tenant_id, item.event.cancel_key, job.pk)
             for item, job in zip(items, jobs, strict=True) if item.event.cancel_key]
    return [item for item in accepted if item.event.audience is None], keyed
