"""Claiming due records: a claim marks them 'sending' under a lease (a token and an expiry), so no other worker
takes them until the lease ends; a record whose worker died is due again then. On PostgreSQL one
`UPDATE ... WHERE id = ANY(ARRAY(SELECT ... FOR UPDATE SKIP LOCKED))` with its planner settings; elsewhere the
ORM in a transaction."""

from __future__ import annotations

import logging
import time
import uuid
from collections import deque
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.utils import timezone

from notifications.delivery.models import CLAIMABLE, NotificationRecord
from notifications.delivery.policy import lease_duration
from notifications.enums import Lane, Status

if TYPE_CHECKING:
    from notifications.delivery.batch import Record

logger = logging.getLogger(__name__)

LANES = tuple(Lane)  # claimed in this order


def due_records(now: datetime, lane: int = Lane.NORMAL) -> Any:
    """One lane's records due for sending, oldest due first (served by the partial index record_due_idx on
    (lane, next_attempt_at)), of every channel: a channel delivered at intake (in-app) has claimable records only
    when they were scheduled, and the worker writes their inbox rows when due (delivery/inbox.py)."""
    return NotificationRecord.objects.filter(status__in=CLAIMABLE, lane=lane, next_attempt_at__lte=now).order_by(
        "next_attempt_at")


def next_due() -> datetime | None:
    """When the earliest claimable record falls due, if any (the first entry of each lane in the due index)."""
    # Records waiting in a digest window have no due time of their own (SQLite sorts NULL first).
    times = [time for lane in LANES
             if (time := NotificationRecord.objects.filter(status__in=CLAIMABLE, lane=lane,
                                                           next_attempt_at__isnull=False)
                 .order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()) is not None]
    return min(times, default=None)


def claim_due(batch_size: int, now: datetime, token: uuid.UUID | None = None, bulk: int | None = None) -> list[int]:
    """Mark up to batch_size due records as ours until the lease ends, at most `bulk` of them from the bulk lane
    (a broadcast's backlog is worked through in small claims, so a record of the normal lane falling due meanwhile
    waits for one small claim, not a large one). A 'sending' record whose lease ended (its worker died) is due
    again."""
    bulk = batch_size if bulk is None else min(bulk, batch_size)
    if connection.vendor == "postgresql":
        return _claim_in_database(batch_size, now, token or uuid.uuid4(), bulk)
    with transaction.atomic():
        ids: list[int] = []
        for lane in LANES:  # the normal lane first; the bulk lane fills what is left
            query = due_records(now, lane)
            if connection.features.has_select_for_update_skip_locked:
                query = query.select_for_update(skip_locked=True)
            room = batch_size - len(ids) if lane == Lane.NORMAL else min(batch_size - len(ids), bulk)
            ids += query.values_list("id", flat=True)[:room]
            if len(ids) >= batch_size:
                break
        if ids:
            NotificationRecord.objects.filter(id__in=ids).update(
                status=Status.SENDING, next_attempt_at=now + lease_duration(), updated_at=now,
                claim_token=token or uuid.uuid4(),
            )
    return ids


def _claim_in_database(batch_size: int, now: datetime, token: uuid.UUID, bulk: int) -> list[int]:
    """PostgreSQL: select (SKIP LOCKED) and mark in one statement, the ids never sent back and forth: the
    ORM's update took the claimed ids as an IN list of up to a thousand parameters. `= ANY(ARRAY(...))` keeps
    the update on the primary key whatever the planner thinks of the table's size.

    The due records are read by walking the due index in order, never by a bitmap scan: every delivered
    record leaves two dead entries there (its pending and its sending versions) until vacuum, all older than
    anything due. An index scan marks each dead entry once and skips it from then on; a bitmap scan (what the
    planner picks while it has no statistics, and whenever it expects few rows) visits all of their table rows
    on every claim: 4-6 ms a claim after a minute at 1,000 events/s, growing until the next vacuum."""
    nested = connection.in_atomic_block
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(CLAIM_PLAN_SETTINGS)
        previous = cursor.fetchone()
        cursor.execute(*claim_statement(batch_size, now, token, bulk))
        ids = sorted(row[0] for row in cursor.fetchall())
        if nested:  # releasing a savepoint keeps transaction-local settings: the caller's transaction gets its own
            cursor.execute(RESTORE_PLAN_SETTINGS, previous[:2])
        return ids


# Transaction-local (set_config(..., true), as SET LOCAL), one statement (a prepared statement cannot hold two),
# returning the values they replace: the subquery (fenced by OFFSET 0) reads them before they are set.
CLAIM_PLAN_SETTINGS = (
    "SELECT before.bitmapscan, before.seqscan, set_config('enable_bitmapscan', 'off', true), "
    "set_config('enable_seqscan', 'off', true) FROM (SELECT current_setting('enable_bitmapscan') AS bitmapscan, "
    "current_setting('enable_seqscan') AS seqscan OFFSET 0) AS before"
)
RESTORE_PLAN_SETTINGS = "SELECT set_config('enable_bitmapscan', %s, true), set_config('enable_seqscan', %s, true)"


def claim_statement(batch_size: int, now: datetime, token: uuid.UUID, bulk: int | None = None,
                    ) -> tuple[str, list[Any]]:
    """The PostgreSQL claim: one UPDATE ... RETURNING id, run after CLAIM_PLAN_SETTINGS in its transaction. The
    lanes are read in order (UNION ALL under one LIMIT): the bulk lane's index is read only for what the normal
    lane leaves of the claim, and only the rows read are locked."""
    table = connection.ops.quote_name(NotificationRecord._meta.db_table)
    parts, params = [], []
    for lane in LANES:
        limit = batch_size if lane == Lane.NORMAL or bulk is None else min(bulk, batch_size)
        select, lane_params = (due_records(now, lane).select_for_update(skip_locked=True)
                               .values_list("id", flat=True)[:limit].query.sql_with_params())
        parts.append(f"SELECT id FROM ({select}) AS lane_{lane}")  # noqa: S608 - ORM-built subquery
        params += lane_params
    lanes = " UNION ALL ".join(parts)
    return (f"UPDATE {table} SET status = %s, next_attempt_at = %s, updated_at = %s, claim_token = %s "  # noqa: S608 - quoted model name, ORM-built subqueries
            f"WHERE id = ANY(ARRAY({lanes} LIMIT %s)) RETURNING id",
            [str(Status.SENDING), now + lease_duration(), now, token, *params, batch_size])


def renew_lease(ids: list[int], token: uuid.UUID) -> set[int]:
    """Extend the lease of those of `ids` still carrying `token`; returns their ids."""
    with transaction.atomic():
        owned = set(
            NotificationRecord.objects.filter(id__in=ids, claim_token=token, status=Status.SENDING)
            .values_list("id", flat=True)
        )
        if owned:
            NotificationRecord.objects.filter(id__in=owned).update(
                next_attempt_at=timezone.now() + lease_duration()
            )
    return owned


class Lease:
    """A batch's claim. Within the lease no other worker can take its records (they are not due), so the
    lease is renewed, and ownership checked again, only once a tenth of it has passed since the last renewal."""

    def __init__(self, token: uuid.UUID, seconds: float) -> None:
        self.token = token
        self.seconds = seconds
        self.renewed = time.monotonic()

    def keep_owned(self, part: list[Record], later: deque[list[Record]]) -> list[Record]:
        """The records of `part` still ours. A renewal covers every record not yet sent (this part and the
        groups after it), so no unsent record's lease can run out between two renewals; records found lost
        are dropped from the later groups too."""
        if time.monotonic() - self.renewed < self.seconds / 10:
            return part
        self.renewed = time.monotonic()
        pending = part + [record for group in later for record in group]
        owned = renew_lease([record.pk for record in pending], self.token)
        if len(owned) < len(pending):
            logger.warning("lease lost on %d record(s); another worker has them", len(pending) - len(owned))
            for index, group in enumerate(later):
                later[index] = [record for record in group if record.pk in owned]
        return [record for record in part if record.pk in owned]
