"""Writing a group's outcomes: each record's new state by the retry rule (policy.apply_outcome), counted in the
metrics and the batch's report, then in one transaction the outcome fields of the records still under this
batch's lease (raw SQL on PostgreSQL), their attempts (COPY), devices their provider reported gone, and the
secrets of events now final."""

from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from notifications.channels.base import Failed
from notifications.channels.models import Device
from notifications.db import append_rows, array_literal, fast_bulk_update
from notifications.delivery.housekeeping import purge_finished
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.delivery.policy import apply_outcome
from notifications.enums import Status
from notifications.observability import metrics

if TYPE_CHECKING:
    from notifications.delivery.batch import Record
    from notifications.delivery.dispatch import Outcome
    from notifications.delivery.report import DeliveryReport

logger = logging.getLogger(__name__)

OUTCOME_FIELDS = [
    "status", "reason", "error_detail", "provider", "provider_message_id", "attempts", "next_attempt_at",
    "sent_at", "updated_at", "claim_token",
]
ATTEMPT_FIELDS = [
    "record_id", "tenant_id", "provider", "started_at", "duration_ms", "outcome", "error_code", "error_detail",
    "provider_message_id",
]
UNAPPLIABLE_RETRY = timedelta(minutes=5)  # an outcome that could not be applied: the record is tried again then


def store_outcomes(records: list[Record], outcomes: dict[int, Outcome], report: DeliveryReport,
                   token: uuid.UUID) -> None:
    now = timezone.now()
    attempts: list[tuple[Any, ...]] = []
    gone_devices: dict[int, str] = {}
    counts: Counter[tuple[str, str, str]] = Counter()
    for record in records:
        outcome = outcomes[record.pk]
        try:
            apply_outcome(record, outcome.result, outcome.sender, now)
        except Exception:
            logger.exception("could not apply the outcome of record %s; it will be retried", record.pk)
            record.status, record.next_attempt_at = Status.RETRYING, now + UNAPPLIABLE_RETRY
        record.claim_token = None
        attempts.extend(outcome.attempts)
        result = outcome.result
        if isinstance(result, Failed) and result.invalid_target and record.device_id:
            gone_devices[record.device_id] = result.code
        counts[(record.channel, record.provider or "-", record.status)] += 1
    for (channel, provider, status), count in counts.items():
        metrics.DELIVERIES.labels(channel, provider, status).inc(count)
        if status == Status.SENT:
            report.sent += count
        elif status == Status.RETRYING:
            report.retrying += count
        else:
            report.failed += count
    with transaction.atomic():
        # Only records still under this batch's lease: if it expired and another worker took one over, that
        # worker's outcome stands.
        owned = write_outcomes(records, token, now)
        lost = len(records) - len(owned)
        if lost:
            logger.warning("lease expired on %d record(s) of this batch; their outcomes are dropped", lost)
            attempts = [row for row in attempts if row[0] in owned]
        insert_attempts(attempts)
        for device_id, code in gone_devices.items():
            Device.objects.filter(pk=device_id).update(active=False, deactivated_reason=code[:64])
        purge_finished(records, owned)
    if gone_devices:
        logger.info("deactivated %d device(s) their provider reported gone", len(gone_devices))


def write_outcomes(records: list[Record], token: uuid.UUID, now: datetime) -> set[int]:
    """Write the outcome fields of the records still carrying `token`; returns their ids. PostgreSQL: one
    `UPDATE ... WHERE id = ANY(...) ... RETURNING` reading each record's values from one JSON parameter."""
    if not records:
        return set()
    if connection.vendor != "postgresql":
        owned = set(
            NotificationRecord.objects.select_for_update()
            .filter(id__in=[r.pk for r in records], claim_token=token).values_list("id", flat=True)
        )
        rows = [NotificationRecord(**{name: getattr(r, name) for name in ("id", *OUTCOME_FIELDS)})
                for r in records if r.pk in owned]
        fast_bulk_update(rows, OUTCOME_FIELDS)
        return owned
    table = connection.ops.quote_name(NotificationRecord._meta.db_table)
    # The outcomes go as one JSON object keyed by record id (orjson), each column looked up in it: arrays of text
    # were quoted value by value on the client, a tenth of what storing a group cost. No join: joining the
    # records to json_to_recordset planned as a sequential scan of the whole table on a young or mid-sized one
    # (7 ms a group of 100 at 20,000 records), while `id = ANY` is always the primary key. Providers' texts
    # lose NUL, which text cannot hold.
    outcomes = orjson.dumps({
        str(r.pk): {"status": str(r.status), "reason": r.reason, "error_detail": r.error_detail.replace("\0", ""),
                    "provider": r.provider, "provider_message_id": r.provider_message_id.replace("\0", ""),
                    "attempts": r.attempts, "next_attempt_at": r.next_attempt_at, "sent_at": r.sent_at}
        for r in records
    }).decode()
    column = "o.m -> t.id::text ->> "
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET status = {column}'status', reason = {column}'reason', "  # noqa: S608 - quoted model name, constant column
            f"error_detail = {column}'error_detail', provider = {column}'provider', "
            f"provider_message_id = {column}'provider_message_id', attempts = ({column}'attempts')::integer, "
            f"next_attempt_at = ({column}'next_attempt_at')::timestamptz, sent_at = ({column}'sent_at')::timestamptz, "
            "updated_at = %s, claim_token = NULL FROM (SELECT %s::jsonb AS m) AS o "
            "WHERE t.id = ANY(%s::bigint[]) AND t.claim_token = %s "
            "AND t.created_at BETWEEN %s AND %s RETURNING t.id",  # the records' time partitions only
            [now, outcomes, array_literal(r.pk for r in records), token,
             min(r.created_at for r in records), max(r.created_at for r in records)],
        )
        return {row[0] for row in cursor.fetchall()}


def insert_attempts(rows: list[tuple[Any, ...]]) -> None:
    """The DeliveryAttempt rows (ATTEMPT_FIELDS order) in one COPY on PostgreSQL."""
    append_rows(DeliveryAttempt, ATTEMPT_FIELDS, rows)
