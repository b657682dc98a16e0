"""A batch's cancels and supersedes (scheduling/cancel.py, scheduling/supersede.py), in two moments of intake:

1. Before planning (`BatchCancels(accepted, tenants)`): an event of a type some supersede rule of its tenant
   targets gets its automatic cancel key (unless it carries its own), and the batch's instructions are noted:
   each `notification.cancel` event cancels its key, each superseding event the keys its rules compute.
2. After the batch's records are written, in the same transaction (`apply`): the instructions are carried out
   in the batch's order, as if its events had come one at a time. An instruction cancels the records written
   before it: older batches' records, and those of the events ahead of it in this batch; never those of the
   events after it (a cancel, then a new reminder under the same key: the new reminder stays), nor the
   superseding event's own (a new 2FA code supersedes the older ones, not itself). Each record goes to the
   first instruction after it that names its key, with that instruction's reason.

Cost: nothing for a batch without instructions beyond a dictionary look-up per event; otherwise at most two
UPDATEs per tenant and reason, one for older records (by the cancel key index) and one for this batch's own."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from notifications.delivery.secrets import purge_final_secrets
from notifications.enums import Outcome, RejectionReason, Status
from notifications.events.envelope import EventRejection
from notifications.events.handlers.control import CANCEL_EVENT, cancel_key_problem
from notifications.scheduling.cancel import (
    CANCELLABLE,
    CancelReason,
    cancel_own_records,
    cancel_records,
    stop_fanouts,
)
from notifications.scheduling.supersede import Rules, rules_for, supersede_key, targets

if TYPE_CHECKING:
    from notifications.events.envelope import ValidatedEvent
    from notifications.intake.planning import Accepted, Planned
    from notifications.intake.results import IntakeResult
    from notifications.tenants.models import Tenant

logger = logging.getLogger(__name__)

_CANCELLED, _SUPERSEDED = CancelReason.CANCELLED.value, CancelReason.SUPERSEDED.value
_STATUS = Status.CANCELLED.value


def refuse_timed_cancels(valid: list[tuple[int, ValidatedEvent]],
                         ) -> tuple[list[tuple[int, ValidatedEvent]], list[tuple[int, EventRejection]]]:
    """(events to take in, rejections): a cancel acts when it is taken in, so one asking for a time of its own
    (deliver_at, delay) is refused with the reason rather than applied at once."""
    # The common batch holds no cancel: the list is returned as it is, with no new tuple per event (measured:
    # one full garbage collection fewer per bench run, ~2 us an event of collection time).
    if not any(event.event_type == CANCEL_EVENT for _, event in valid):
        return valid, []
    kept, refused = [], []
    for pair in valid:
        event = pair[1]
        raw = event.raw if isinstance(event.raw, dict) else {}
        if event.event_type == CANCEL_EVENT and (raw.get("deliver_at") is not None or raw.get("delay") is not None):
            refused.append((pair[0], EventRejection(
                RejectionReason.INVALID_FIELD, f"{CANCEL_EVENT} acts when it is taken in: deliver_at and delay are "
                "refused (send it when the notifications are to be cancelled)", event.raw,
                tenant_id=event.tenant_id, event_type=event.event_type)))
        else:
            kept.append(pair)
    return kept, refused


@dataclass(slots=True)
class Instruction:
    index: int  # the instructing event's place in the batch
    tenant_id: str
    key: str
    reason: str
    cancelled: int = 0


class BatchCancels:
    def __init__(self, accepted: list[Accepted], tenants: Mapping[str, Tenant]) -> None:
        self.instructions: list[Instruction] = []
        #: This batch's fan-out jobs carrying a cancel key (audiences.intake): (index, tenant, key, job id). A
        #: cancel stops those before it in the batch, never those after it, like records.
        self.fanouts: list[tuple[int, str, str, int]] = []
        known: dict[str, tuple[Rules, dict[str, tuple[str, ...]]]] = {}
        for item in accepted:
            event = item.event
            tenant_id = event.tenant_id
            if event.event_type == CANCEL_EVENT:
                key = event.payload.get("cancel_key")
                if not cancel_key_problem(key):  # checked by the payload model; a replaced handler may not
                    self.instructions.append(Instruction(item.index, tenant_id, str(key), _CANCELLED))
                continue
            tenant_rules = known.get(tenant_id)
            if tenant_rules is None:
                rules = rules_for(tenants[tenant_id].settings)
                tenant_rules = known[tenant_id] = (rules, targets(rules))
            rules, matched_on = tenant_rules
            match = matched_on.get(event.event_type)
            if match is not None and not event.cancel_key:
                event.cancel_key = supersede_key(event.event_type, match, event.user_id, event.payload) or ""
            for rule in rules.get(event.event_type, ()):
                key = supersede_key(rule.event_type, rule.match, event.user_id, event.payload)
                if key:
                    self.instructions.append(Instruction(item.index, tenant_id, key, _SUPERSEDED))

    def apply(self, accepted: list[Accepted], records: list[Planned]) -> None:
        """Carry the instructions of the events still accepted out on the written records (see the module)."""
        kept = {item.index for item in accepted}
        by_key: dict[tuple[str, str], list[Instruction]] = defaultdict(list)
        for instruction in sorted(self.instructions, key=lambda i: i.index):
            if instruction.index in kept:
                by_key[(instruction.tenant_id, instruction.key)].append(instruction)
        if not by_key:
            return
        ours: dict[tuple[str, str], list[int]] = defaultdict(list)  # this batch's records per (tenant, reason)
        owner: dict[int, Instruction] = {}
        keep: dict[tuple[str, str], list[int]] = defaultdict(list)  # per (tenant, key): not an older record
        planned: dict[int, Planned] = {}
        for record in records:
            event = record.item.event
            group = (event.tenant_id, event.cancel_key)
            if not event.cancel_key or group not in by_key or record.pk is None:
                continue
            keep[group].append(record.pk)
            if record.status not in CANCELLABLE:
                continue
            after = next((i for i in by_key[group] if i.index > record.item.index), None)
            if after is not None:
                ours[(event.tenant_id, after.reason)].append(record.pk)
                owner[record.pk], planned[record.pk] = after, record
        older: dict[tuple[str, str], list[str]] = defaultdict(list)
        for (tenant_id, key), instructions in by_key.items():
            older[(tenant_id, instructions[0].reason)].append(key)
        finished = set()
        for (tenant_id, reason), keys in sorted(older.items()):  # a fixed order: concurrent batches lock alike
            spared = [pk for key in keys for pk in keep.get((tenant_id, key), ())]
            if reason == _CANCELLED:  # first: a chunk in flight commits, then its records are taken
                stop_fanouts(tenant_id, keys, spare=[job for _, tenant, _, job in self.fanouts if tenant == tenant_id])
            for row in cancel_records(tenant_id, reason, keys=sorted(keys), keep=spared):
                by_key[(tenant_id, row.cancel_key)][0].cancelled += 1
                finished.add(row.event_id)
        own_jobs = [job for index, tenant_id, key, job in self.fanouts
                    if any(i.index > index and i.reason == _CANCELLED for i in by_key.get((tenant_id, key), ()))]
        if own_jobs:  # this batch's fan-outs with a cancel after them in the batch
            stop_fanouts(None, (), ids=own_jobs)
        for (_, reason), ids in sorted(ours.items()):  # this batch's own: written cancellable, uncommitted
            for row in cancel_own_records(reason, ids):
                owner[row.id].cancelled += 1
                record = planned[row.id]
                record.status, record.reason, record.next_attempt_at = _STATUS, reason, None
        purge_final_secrets(finished)  # older events now final; this batch's own: intake's purge_if_final
        total = sum(i.cancelled for group in by_key.values() for i in group)
        if total:
            logger.info("intake cancelled %d notification(s) (%d instruction(s))", total,
                        sum(len(group) for group in by_key.values()))

    def report(self, results: list[IntakeResult | None]) -> None:
        """Each instructing event's result says how many notifications it cancelled or superseded."""
        counts: dict[tuple[int, str], int] = defaultdict(int)
        for instruction in self.instructions:
            counts[(instruction.index, instruction.reason)] += instruction.cancelled
        for (index, reason), count in counts.items():
            result = results[index]
            # A cancel always says its number (0 too); a supersede only when it replaced something.
            if result is not None and result.outcome == Outcome.PROCESSED and (count or reason == _CANCELLED):
                verb = "cancelled" if reason == _CANCELLED else "superseded"
                note = f"{verb} {count} notification(s)"
                results[index] = replace(result, detail=f"{result.detail}; {note}" if result.detail else note)
