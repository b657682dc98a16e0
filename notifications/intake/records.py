"""Writing the planned records, and the results of the events that made them."""

from __future__ import annotations

from notifications.channels.spec import CHANNEL_SPECS
from notifications.db import insert_rows
from notifications.delivery.models import NotificationRecord
from notifications.delivery.wakeup import signal_due_after_commit
from notifications.enums import Outcome, Status
from notifications.intake.planning import Accepted, Planned
from notifications.intake.results import IntakeResult, RecordSummary

_PENDING, _SCHEDULED = Status.PENDING.value, Status.SCHEDULED.value


def write_records(records: list[Planned]) -> None:
    """COPY of the records as planned, plain rows with ISO text timestamps (`plain=True`: no per-value conversion,
    6620b3e); each record learns its key. Workers are woken after commit when any record is due, or scheduled
    (an idle worker then sleeps until the earliest due time, which may be sooner than its poll)."""
    for record, key in zip(records, insert_rows(NotificationRecord, Planned.COLUMNS,
                                                [record.row() for record in records], plain=True), strict=True):
        record.pk = key
    if any(record.status == _SCHEDULED or (record.status == _PENDING
                                            and not CHANNEL_SPECS[record.channel].delivered_at_intake)
           for record in records):
        signal_due_after_commit()


def processed_results(accepted: list[Accepted], records: list[Planned], results: list[IntakeResult | None]) -> None:
    """Each accepted event's result, naming its records, in its place in `results`."""
    by_event: dict[int, list[RecordSummary]] = {}
    for record in records:
        by_event.setdefault(record.item.index, []).append(
            RecordSummary(channel=record.channel, status=record.status, reason=record.reason, record_id=record.pk)
        )
    for item in accepted:
        results[item.index] = IntakeResult(
            outcome=Outcome.PROCESSED,
            event_type=item.event.event_type,
            tenant_id=item.event.tenant_id,
            event_id=item.pk_text,
            records=tuple(by_event.get(item.index, [])),
        )
