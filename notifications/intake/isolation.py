"""One event's failure stays with that event.

Intake runs a batch in one transaction. The steps that run per event (contact fields, planning, in-app rendering)
are guarded one event at a time: an event whose step raises is set aside here and stored as a rejection
(PROCESSING_ERROR, the error's type only, never its values) in the same transaction, while the batch's other
events are taken in together as usual. What cannot be guarded per event (a batch-wide step failing for a reason
that is not the database being away) is retried by `take_in_halves`: the batch is split in halves and each half
retried, so one bad event costs O(log n) transactions, not one per event.

Database errors are never swallowed per event: after one, the transaction is unusable (PostgreSQL aborts it).
OperationalError and InterfaceError (the database is away) go up to the caller, which retries the batch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.db.utils import DatabaseError, InterfaceError, OperationalError

from notifications.enums import Outcome, RejectionReason
from notifications.events.envelope import EventRejection, ValidatedEvent
from notifications.intake.results import IntakeResult

if TYPE_CHECKING:
    from notifications.intake.planning import Accepted

logger = logging.getLogger(__name__)

DATABASE_AWAY = (OperationalError, InterfaceError)
# Errors a per-event guard must let through: the transaction (or the connection) is gone, not just one event.
NOT_PER_EVENT = (DatabaseError,)

Parsed = ValidatedEvent | EventRejection
Origin = dict[str, Any] | None


def failure_detail(err: BaseException) -> str:
    """What a rejection says about an error: its type only (an error's text may quote the event's values)."""
    return f"taking the event in failed: {type(err).__name__}"


def rejection_for(event: Parsed, err: BaseException) -> EventRejection:
    """The rejection an event becomes when taking it in raised `err`."""
    rejection = EventRejection(
        RejectionReason.PROCESSING_ERROR,
        failure_detail(err),
        event.raw,
        tenant_id=getattr(event, "tenant_id", ""),
        event_type=getattr(event, "event_type", ""),
    )
    logger.error("event could not be taken in: tenant_id=%s event_type=%s error=%s",
                 rejection.tenant_id or "-", rejection.event_type or "-", type(err).__name__)
    return rejection


class Failures:
    """The events of one batch whose own steps raised: set aside, to be stored as rejections instead."""

    __slots__ = ("by_index",)

    def __init__(self) -> None:
        self.by_index: dict[int, EventRejection] = {}

    def add(self, index: int, event: ValidatedEvent, err: BaseException) -> None:
        if index not in self.by_index:
            self.by_index[index] = rejection_for(event, err)

    def __contains__(self, index: int) -> bool:
        return index in self.by_index

    def __bool__(self) -> bool:
        return bool(self.by_index)

    def keep(self, accepted: list[Accepted]) -> list[Accepted]:
        """The accepted events that did not fail; the failed ones' archived rows are removed again (so a
        redelivery or a reprocess of the rejection is not taken for a duplicate)."""
        if not self.by_index:
            return accepted
        from notifications.db.deletes import delete_rows
        from notifications.events.models import Event, EventKey

        failed = [item.pk_text for item in accepted if item.index in self.by_index]
        # Plain DELETEs of the events and their keys: nothing refers to these rows yet (their records are written
        # after this), so the ORM's cascade collector (a SELECT per related table first) is not needed; ~3 ms a
        # batch saved.
        for model, column in ((Event, "pk"), (EventKey, "event_id")) if failed else ():
            delete_rows(model, column, failed)
        return [item for item in accepted if item.index not in self.by_index]

    def reject_repeats(self, accepted: list[Accepted], valid: list[tuple[int, ValidatedEvent]],
                       results: list[IntakeResult | None]) -> None:
        """Events named duplicates of a batch-mate whose own step then failed (its archived row is gone again)
        become rejections too, so a redelivery or a reprocess takes them in; they are not lost as duplicates of
        nothing. Call before `keep`."""
        failed = {item.pk_text: self.by_index[item.index] for item in accepted if item.index in self.by_index}
        if not failed:
            return
        for index, event in valid:
            result = results[index]
            if result is not None and result.outcome == Outcome.DUPLICATE and result.event_id in failed:
                results[index] = None
                self.by_index[index] = EventRejection(
                    RejectionReason.PROCESSING_ERROR, failed[result.event_id].detail, event.raw,
                    tenant_id=event.tenant_id, event_type=event.event_type)

    def rejections(self) -> list[tuple[int, EventRejection]]:
        return sorted(self.by_index.items())


TakeIn = Callable[[Sequence[Parsed], Sequence[str], Sequence[dict[str, Any]] | None], list[IntakeResult]]
TakeInAlone = Callable[[Parsed, str, Origin], IntakeResult]


def take_in_halves(parsed: Sequence[Parsed], sources: Sequence[str], origins: Sequence[dict[str, Any]] | None,
                   take_in: TakeIn, alone: TakeInAlone) -> list[IntakeResult]:
    """The fallback after a batch failed as a whole: each half is retried in its own transaction, and a half
    that fails again is split again, down to single events (`alone` takes one in by itself, and turns it into
    a rejection if that fails too)."""
    if len(parsed) <= 1:
        return [alone(item, sources[i], origins[i] if origins else None) for i, item in enumerate(parsed)]
    middle = len(parsed) // 2
    results: list[IntakeResult] = []
    for start, end in ((0, middle), (middle, len(parsed))):
        part, part_sources = parsed[start:end], sources[start:end]
        part_origins = origins[start:end] if origins else None
        if end - start == 1:
            results += take_in_halves(part, part_sources, part_origins, take_in, alone)
            continue
        try:
            results += take_in(part, part_sources, part_origins)
        except DATABASE_AWAY:
            raise
        except Exception as err:  # noqa: BLE001 - split again: the bad event is in this half
            logger.warning("intake of %d events failed (%s): splitting them in halves", end - start,
                           type(err).__name__)
            results += take_in_halves(part, part_sources, part_origins, take_in, alone)
    return results
