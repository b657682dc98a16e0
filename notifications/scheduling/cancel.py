"""Cancelling notifications not yet sent: by the cancel key their events carried (`POST /api/v1/events/cancel`,
a `notification.cancel` event) or because a newer one supersedes them (scheduling/supersede.py).

What a cancel takes: the tenant's records of the key that are `pending`, `scheduled` or `retrying`. They end
`cancelled` (reason `cancelled` or `superseded`), with no due time and no claim, in one UPDATE scoped by tenant
through the partial index record_cancel_key_idx.

What it leaves: a `sending` record. A worker claimed it, and the claim won: it is sent (or retried, and then a
later cancel takes it). That holds for a `sending` record whose lease expired too. An expired lease means the
worker stopped renewing it (it died, or it is still inside a provider call that outlasted the lease), so the
message may already be with the provider, and nothing can take it back. Marking that record cancelled could
say "cancelled" about a message that was delivered. So such a record stays with the claim: the next claim
takes it over and sends it (at least once, as after any crash).

The race with a worker, on PostgreSQL: the claim is `UPDATE ... WHERE id = ANY(ARRAY(SELECT ... FOR UPDATE
SKIP LOCKED))`. Whichever of the two locks a record first decides it. If the cancel holds it, the claim skips
it, and once the cancel commits the record is no longer claimable. If the claim holds it, the cancel's UPDATE
waits and then checks its condition again on the claimed version (`sending`: not taken). A worker writes an
outcome only to records still under its claim_token, and a cancelled record has none. So a record is either
sent (the claim won) or cancelled (the cancel won), never both (tests/scheduling/test_cancel.py races the two
on PostgreSQL). On SQLite writers take turns.

Events whose records are all final after a cancel lose their secrets at once, as when the last one is sent."""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from enum import StrEnum
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from notifications.db import array_literal, text_array_literal
from notifications.db.plans import BY_KEY, plan_settings
from notifications.delivery.models import NotificationRecord
from notifications.delivery.secrets import purge_final_secrets
from notifications.enums import Status
from notifications.events.handlers.control import cancel_key_problem

#: What a cancel takes ('sending' is the claim's: see above).
CANCELLABLE = (Status.PENDING.value, Status.SCHEDULED.value, Status.RETRYING.value)


class CancelReason(StrEnum):
    """A cancelled record's `reason`."""

    CANCELLED = "cancelled"  # its cancel key was cancelled (API, notification.cancel event)
    SUPERSEDED = "superseded"  # a newer notification replaced it (scheduling/supersede.py)
    ERASED = "erased"  # its recipient's data was erased before it went (history/erasure.py)


class Cancelled(NamedTuple):
    id: int
    event_id: Any
    cancel_key: str


def cancel(tenant_id: str, key: str, reason: str = CancelReason.CANCELLED) -> int:
    """Cancel every record of `key` of this tenant not yet sent; returns how many were cancelled. Raises
    ValueError naming the problem for a key that cannot be one (empty, too long, not text)."""
    problem = cancel_key_problem(key)
    if problem:
        raise ValueError(problem)
    with transaction.atomic():
        if reason == CancelReason.CANCELLED:
            stop_fanouts(tenant_id, [key])  # first: it waits for a chunk in flight, whose records are then taken
        cancelled = cancel_records(tenant_id, str(reason), keys=[key])
        purge_final_secrets({row.event_id for row in cancelled})
    return len(cancelled)


def cancel_records(tenant_id: str, reason: str, *, keys: Collection[str] = (), ids: Collection[int] = (),
                   keep: Collection[int] = ()) -> list[Cancelled]:
    """One UPDATE of the tenant's cancellable records carrying one of `keys` (or those of `ids`), except the
    records of `keep`; returns the records it cancelled. Secrets are the caller's to purge."""
    if not keys and not ids:
        return []
    table = connection.ops.quote_name(NotificationRecord._meta.db_table)
    statuses = ", ".join(f"'{status}'" for status in CANCELLABLE)  # constants: the planner proves the partial index
    params: list[Any] = [Status.CANCELLED.value, reason, timezone.now(), tenant_id]
    if keys:
        # `cancel_key <> ''` and the statuses as literals: what the index's condition needs to be seen to hold.
        where, values = "cancel_key <> '' AND cancel_key " + _member("text"), _values(keys, "text")
    else:
        where, values = "id " + _member("bigint"), _values(ids, "bigint")
    params.append(values)
    if keep:
        where += " AND NOT id " + _member("bigint")
        params.append(_values(keep, "bigint"))
    condition = f"tenant_id = %s AND status IN ({statuses}) AND {where}"
    if connection.vendor == "postgresql":
        # The rows are locked in id order first, as a digest's close locks its waiting records
        # (digests/closing.py): two statements taking overlapping rows in different orders could deadlock. A row
        # a claim holds is waited for and checked again ('sending' then: not taken).
        condition = (f"id = ANY(ARRAY(SELECT id FROM {table} WHERE {condition} ORDER BY id FOR UPDATE)) "  # noqa: S608 - as below
                     f"AND status IN ({statuses})")
    with plan_settings(**BY_KEY), connection.cursor() as cursor:  # through the cancel key's partial index
        cursor.execute(
            f"UPDATE {table} SET status = %s, reason = %s, next_attempt_at = NULL, claim_token = NULL, "  # noqa: S608 - quoted model name, constant statuses
            f"updated_at = %s WHERE {condition} RETURNING id, event_id, cancel_key", params)
        # SQLite returns the UUID as its hex text: the purge compares it with UUIDs.
        return [Cancelled(id_, event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(str(event_id)), key)
                for id_, event_id, key in cursor.fetchall()]


def cancel_own_records(reason: str, ids: Collection[int]) -> list[Cancelled]:
    """Cancel records that the caller's own transaction wrote and has not committed (intake: a batch's events
    superseded by a later event of the same batch); returns them. The caller passes only records it wrote
    cancellable (CANCELLABLE): uncommitted, no other transaction can see, claim or lock them, so the UPDATE
    needs neither cancel_records' lock in id order nor its tenant and status conditions.

    Fast path, "own records by id": on the bench's fresh tables (not yet analyzed) cancel_records' conditions
    made PostgreSQL read every open record of the tenant (tenant index AND claim index, then the heap) to find
    a handful: 2.96 -> 0.03 ms a batch of 20,000 bench events' last (EXPLAIN ANALYZE, 44,000 records)."""
    if not ids:
        return []
    table = connection.ops.quote_name(NotificationRecord._meta.db_table)
    with plan_settings(**BY_KEY), connection.cursor() as cursor:  # each record by its id
        cursor.execute(
            f"UPDATE {table} SET status = %s, reason = %s, next_attempt_at = NULL, claim_token = NULL, "  # noqa: S608 - quoted model name
            f"updated_at = %s WHERE id {_member('bigint')} RETURNING id, event_id, cancel_key",
            [Status.CANCELLED.value, reason, timezone.now(), _values(ids, "bigint")])
        return [Cancelled(id_, event_id if isinstance(event_id, uuid.UUID) else uuid.UUID(str(event_id)), key)
                for id_, event_id, key in cursor.fetchall()]


def stop_fanouts(tenant_id: str | None, keys: Collection[str], *, spare: Collection[int] = (),
                 ids: Collection[int] = ()) -> int:
    """The tenant's open fan-outs of events carrying one of `keys` (except the jobs of `spare`), or the jobs of
    `ids`, write no more chunks (audiences.runner). A runner holds a job's row while it writes a chunk: this
    UPDATE waits for that chunk to commit, so the records UPDATE after it takes the chunk's records too."""
    from notifications.audiences.models import OPEN_STATES, FanOut, FanOutState

    jobs = FanOut.objects.filter(state__in=OPEN_STATES)
    jobs = jobs.filter(pk__in=list(ids)) if ids else jobs.filter(tenant_id=tenant_id, cancel_key__in=list(keys))
    if spare:
        jobs = jobs.exclude(pk__in=list(spare))
    now = timezone.now()
    return jobs.update(state=FanOutState.CANCELLED, finished_at=now, updated_at=now)


def _member(kind: str) -> str:
    """`IN` a list bound as one parameter: a PostgreSQL array, or a JSON array on SQLite."""
    return f"= ANY(%s::{kind}[])" if connection.vendor == "postgresql" else "IN (SELECT value FROM json_each(%s))"


def _values(values: Collection[Any], kind: str) -> Any:
    if connection.vendor != "postgresql":
        return json.dumps(list(values))
    return text_array_literal(values) if kind == "text" else array_literal(values)
