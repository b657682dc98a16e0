"""One chunk of a fan-out: the next recipients' records planned by intake's planner (the same rules: tenant
switches, preferences and opt-outs, topic preferences, rate limits, digests, time zones and quiet hours, all per
recipient) and written like intake writes them (COPY). The caller (audiences.runner) holds the job's row lock and
commits the records with the job's cursor.

Unlike intake, a fan-out renders nothing: its in-app records are `pending` in the bulk lane like the others, and
the delivery workers write their inbox rows (delivery/inbox.py) as they reach them. Writing a million records
is then the fan-out's whole cost (rendering each recipient's in-app message in the chunk cost three times the
records' writing: bench/README.md, issue 18)."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from notifications.audiences.models import FanOut
from notifications.audiences.sources import Recipient
from notifications.db import stream_rows
from notifications.delivery.models import NotificationRecord
from notifications.delivery.wakeup import signal_due_after_commit
from notifications.enums import Lane, Status
from notifications.events.envelope import ValidatedEvent
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.intake.isolation import NOT_PER_EVENT
from notifications.intake.planning import Accepted, Planned, planner_for
from notifications.tenants.models import Tenant

logger = logging.getLogger(__name__)

#: A recipient whose planning raised (a handler's bug): no records, counted under this reason.
PLANNING_ERROR = "planning_error"
_SKIPPED = Status.SKIPPED.value
_OPEN = (Status.PENDING.value, Status.SCHEDULED.value)


@dataclass(slots=True)
class Chunk:
    recipients: int
    records: int
    skipped: Counter[str]  # skipped records by reason, and recipients whose planning failed


def audience_event(job: FanOut) -> ValidatedEvent:
    """The job's event as intake validated it, for no one yet: each recipient gets a copy (for_recipient). Its
    payload stays as stored: the workers render each recipient's message from the event row (delivery.compose)."""
    row = Event.objects.get(pk=job.event_id)
    event_registry.prepare([(row.tenant_id, row.event_type)])  # a tenant-defined type's current version
    return ValidatedEvent(
        event_type=row.event_type, tenant_id=row.tenant_id, timestamp=row.occurred_at, payload=row.payload,
        handler=event_registry.handler_for(row.event_type, row.tenant_id), dedupe_key=row.dedupe_key,
        event_id=row.event_id,
        metadata=row.metadata, deliver_at=job.deliver_at, cancel_key=job.cancel_key,
    )


def for_recipient(event: ValidatedEvent, user_id: str) -> ValidatedEvent:
    """The event as one recipient's: their user_id (the planner, the digest windows and the time rules read it
    there). Built field by field: dataclasses.replace was a tenth of a chunk's time."""
    return ValidatedEvent(event.event_type, event.tenant_id, event.timestamp, event.payload, event.handler,
                          event.dedupe_key, event.event_id, user_id, event.metadata, None, None, event.deliver_at,
                          event.cancel_key)


def write_chunk(job: FanOut, event: ValidatedEvent, recipients: Sequence[Recipient], tenant: Tenant,
                now: datetime) -> Chunk:
    tenant_id, event_type, pk_text = job.tenant_id, job.event_type, str(job.event_id)
    items = [Accepted(index, for_recipient(event, r.user_id), pk_text, event.payload, contact=r.contact or {},
                      unknown=r.contact is None, only=r.only, lane=Lane.BULK.value)
             for index, r in enumerate(recipients)]
    planner = planner_for(items, {tenant_id: tenant}, now)  # the unknown recipients are not looked up
    skipped: Counter[str] = Counter()
    records = planner.records

    def planned() -> Iterator[Planned]:
        """Each recipient planned (on its own guard), and its records as they are planned."""
        for item in items:
            start = len(records)
            try:
                planner.plan(item)
            except NOT_PER_EVENT:
                raise
            except Exception as err:  # noqa: BLE001 - this recipient's own problem: the others go on
                del records[start:]
                skipped[PLANNING_ERROR] += 1
                logger.error("fan-out %s: planning for user_id=%s failed (%s)", job.pk, item.event.user_id,
                             type(err).__name__)
                continue
            yield from records[start:]

    channels = [*event.handler.get_channels(event_type, event.payload), *planner.rules.may_add(event)]
    if _plans_without_queries(event.handler) and (event.handler.critical or not planner.may_digest(
            tenant_id, event_type, channels)):
        # Fast path, "planned while sent": the rows go to the server as they are planned (db.stream_rows), so it
        # inserts while the next recipients are planned. 1M recipients: bench/README.md, issue 18.
        stream_rows(NotificationRecord, Planned.COLUMNS, (record.row() for record in planned()))
    else:  # a digested record's window is opened in the database (planner.finish) before its row is written; a
        # handler of the host project may query the database while it is asked who gets what
        for _ in planned():  # each row is made once, after the windows are joined
            pass
        planner.finish()
        stream_rows(NotificationRecord, Planned.COLUMNS, [record.row() for record in records])
    if any(record.status in _OPEN for record in records):  # in-app ones too: the workers deliver them
        signal_due_after_commit()
    skipped.update(_reason(record) for record in records if record.status == _SKIPPED)
    return Chunk(len(recipients), len(records), skipped)


def _plans_without_queries(handler: Any) -> bool:
    """Whether planning with this handler runs no query: only then may rows stream into a COPY while planned (a
    query during the COPY would wait for the connection the COPY holds, for ever). The built-in handlers' planning
    reads the payload only; a host project's handler (NOTIFICATIONS["HANDLERS"]) may read the database."""
    return type(handler).__module__.startswith(_BUILT_IN)


_BUILT_IN = "notifications.events.handlers."


def _reason(record: Planned) -> str:
    return record.reason.split(":", 1)[0]
