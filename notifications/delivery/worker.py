"""The delivery worker. Each batch: claim due records (a lease; SKIP LOCKED on PostgreSQL), render them, send
them concurrently through each channel's provider chain, then write outcomes, attempts and device changes in
bulk. A record left in 'sending' by a crashed worker is due again when its lease expires."""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import orjson
from django.db import close_old_connections, connection, transaction
from django.db.utils import DatabaseError
from django.utils import timezone

from notifications.channels.base import (
    Failed,
    FailureKind,
    Message,
    Sender,
    SendResult,
    Sent,
    permanent,
    transient,
)
from notifications.channels.models import Device
from notifications.channels.registry import ProviderChains
from notifications.channels.resilience import CircuitBreaker, TokenBucket
from notifications.conf import get_setting
from notifications.db import append_rows, array_literal, fast_bulk_update, rows_by_ids
from notifications.delivery.models import CLAIMABLE, DeliveryAttempt, NotificationRecord
from notifications.delivery.compose import message_for
from notifications.delivery.runtime import get_runtime
from notifications.delivery.secrets import (
    SecretPurged,
    expire_inbox_secrets,
    purge_final_secrets,
)
from notifications.delivery.wakeup import DueWaiter, wake_in_process
from notifications.enums import Channel, Status
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.observability import metrics
from notifications.rendering.failures import RENDER_ERROR, render_error_detail
from notifications.rendering.service import Renderer
from notifications.tenants.models import Contact, Tenant
from notifications.utils.lazy import ProcessSingleton
from notifications.utils.limiter import Limiter

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
OUTCOME_FIELDS = [
    "status", "reason", "error_detail", "provider", "provider_message_id", "attempts", "next_attempt_at",
    "sent_at", "updated_at", "claim_token",
]
ATTEMPT_FIELDS = [
    "record_id", "tenant_id", "provider", "started_at", "duration_ms", "outcome", "error_code", "error_detail",
    "provider_message_id",
]
# What the worker reads of a record: plain values, no model instance (building four model instances per record
# through select_related was a fifth of the worker's time).
_RECORD_COLUMNS = [
    "id", "tenant_id", "event_id", "event_type", "user_id", "channel", "recipient", "device_id", "status",
    "reason", "error_detail", "provider", "provider_message_id", "attempts", "created_at",
]
# Written by delivery, never read: not loaded (Django's time zone aware loader is slow, a tenth of a send's cost).
_WRITTEN_ONLY = ("next_attempt_at", "sent_at", "updated_at")


class _Record:
    """The fields of a NotificationRecord that delivery reads and writes (same attribute names)."""

    __slots__ = (*_RECORD_COLUMNS, *_WRITTEN_ONLY, "claim_token", "pk")

    def __init__(self, row: Sequence[Any]) -> None:
        # One unpacking in _RECORD_COLUMNS order (a setattr loop was 1.5% of a send).
        (self.id, self.tenant_id, self.event_id, self.event_type, self.user_id, self.channel, self.recipient,
         self.device_id, self.status, self.reason, self.error_detail, self.provider, self.provider_message_id,
         self.attempts, self.created_at) = row
        self.next_attempt_at = self.sent_at = self.updated_at = None
        self.pk = self.id
        self.claim_token = None


@dataclass
class _Batch:
    """What rendering a claimed batch needs, loaded in a few queries."""

    records: list[_Record]
    events: dict[Any, tuple[str, datetime, dict[str, Any]]]  # id -> (event_id, occurred_at, payload)
    tenants: dict[str, Tenant]
    devices: dict[int, Device]
    contacts: dict[tuple[str, str], dict[str, str]]


def _load_batch(ids: list[int]) -> _Batch:
    records = [_Record(row) for row in rows_by_ids(NotificationRecord, _RECORD_COLUMNS, ids, order_by_pk=True)]
    events = {row[0]: row[1:] for row in rows_by_ids(Event, ["id", "event_id", "occurred_at", "payload"],
                                                      {r.event_id for r in records})}
    tenants = Tenant.objects.in_bulk({r.tenant_id for r in records})
    device_ids = {r.device_id for r in records if r.device_id}
    devices = Device.objects.in_bulk(device_ids) if device_ids else {}
    return _Batch(records, events, tenants, devices, _contacts_for(records))


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: "DeliveryReport") -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed

    def __str__(self) -> str:
        return f"claimed={self.claimed} sent={self.sent} retrying={self.retrying} failed={self.failed}"


@dataclass
class _Outcome:
    result: SendResult
    sender: str = ""
    attempts: list[tuple] = field(default_factory=list)  # ATTEMPT_FIELDS values, one tuple per provider call


def max_attempts(channel: str) -> int:
    per_channel = get_setting("MAX_ATTEMPTS_BY_CHANNEL", {}) or {}
    return int(per_channel.get(channel, get_setting("MAX_ATTEMPTS", 5)))


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with +-20% jitter, capped at 6 hours; a provider's Retry-After is a floor."""
    base = float(get_setting("RETRY_BASE_SECONDS", 30.0))
    delay = min(base * (2 ** min(max(attempts - 1, 0), 30)), 6 * 3600.0) * random.uniform(0.8, 1.2)
    floor = retry_after if retry_after is not None and 0 <= retry_after < 86400 * 7 else 0.0
    return max(delay, floor)


def lease_duration() -> timedelta:
    return timedelta(seconds=float(get_setting("DELIVERY_LEASE_SECONDS", LEASE.total_seconds())))


def due_records(now: datetime) -> Any:
    """The records due for sending, oldest due first (served by the partial index record_due_idx)."""
    return (NotificationRecord.objects.filter(status__in=CLAIMABLE, next_attempt_at__lte=now)
            .exclude(channel=Channel.IN_APP).order_by("next_attempt_at"))


def claim_due(batch_size: int, now: datetime, token: uuid.UUID | None = None) -> list[int]:
    """Mark up to batch_size due records as ours until the lease ends. A 'sending' record whose lease ended
    (its worker died) is due again."""
    if connection.vendor == "postgresql":
        return _claim_in_database(batch_size, now, token or uuid.uuid4())
    with transaction.atomic():
        query = due_records(now)
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("id", flat=True)[:batch_size])
        if ids:
            NotificationRecord.objects.filter(id__in=ids).update(
                status=Status.SENDING, next_attempt_at=now + lease_duration(), updated_at=now,
                claim_token=token or uuid.uuid4(),
            )
    return ids


def _claim_in_database(batch_size: int, now: datetime, token: uuid.UUID) -> list[int]:
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
        cursor.execute(*claim_statement(batch_size, now, token))
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


def claim_statement(batch_size: int, now: datetime, token: uuid.UUID) -> tuple[str, list[Any]]:
    """The PostgreSQL claim: one UPDATE ... RETURNING id, run after CLAIM_PLAN_SETTINGS in its transaction."""
    table = connection.ops.quote_name(NotificationRecord._meta.db_table)
    select, params = (due_records(now).select_for_update(skip_locked=True)
                      .values_list("id", flat=True)[:batch_size].query.sql_with_params())
    return (f"UPDATE {table} SET status = %s, next_attempt_at = %s, updated_at = %s, claim_token = %s "
            f"WHERE id = ANY(ARRAY({select})) RETURNING id",
            [str(Status.SENDING), now + lease_duration(), now, token, *params])


def renew_lease(ids: list[int], token: uuid.UUID) -> set[int]:
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


class DeliveryEngine:
    """Owns the provider chains, breakers, rate buckets and concurrency bounds of one worker process."""

    def __init__(self, concurrency: int | None = None) -> None:
        self.concurrency = concurrency or int(get_setting("DELIVERY_CONCURRENCY", 100))
        self._expired_at = -1e9
        self._clock = time.monotonic  # the housekeeping's clock (tests move it)
        self.chains = ProviderChains()
        self.runtime = get_runtime()
        self._guards: dict[Sender, _Guard] = {}
        self._send_seconds: dict[tuple[Channel, Sender], Any] = {}

    def expire_inbox_secrets(self) -> int:
        """Housekeeping, at most once a second per process: blank in-app messages whose secret has expired. A
        worker caught up claims nothing many times a second (two processes at 1,000 events/s: ~17 empty claims a
        second between them), and the sweep ran after each; on a table the planner has no statistics for yet
        (a new deployment's first minute) it was a sequential scan of the inbox, up to a quarter of a core."""
        if self._clock() - self._expired_at < 1.0:
            return 0
        self._expired_at = self._clock()
        return expire_inbox_secrets(timezone.now())

    # --- one batch ------------------------------------------------------------------------------------------
    def deliver_due(self, batch_size: int | None = None) -> DeliveryReport:
        now = timezone.now()
        token = uuid.uuid4()
        ids = claim_due(batch_size or int(get_setting("DELIVERY_BATCH_SIZE", 1000)), now, token)
        report = DeliveryReport(claimed=len(ids))
        if not ids:
            self.expire_inbox_secrets()
            return report
        lease = _Lease(token, lease_duration().total_seconds())
        batch = _load_batch(ids)
        tenant_ids = {r.tenant_id for r in batch.records}
        for sender in self.chains.refresh(tenant_ids):
            self.runtime.run(sender.aclose())
            self._guards.pop(sender, None)
        renderer = Renderer(tenant_ids)
        # The batch goes out in groups through a short pipeline: while groups are being sent on the event loop,
        # this thread renders the next group and writes the outcomes of the previous one. The overall bound
        # (`concurrency`) holds across groups. Outcomes are written group by group, so a worker killed
        # mid-batch re-sends at most the groups in flight (up to two `concurrency`-sized chunks).
        size = max(self.concurrency // 2, 1)
        groups = deque(batch.records[start : start + size] for start in range(0, len(batch.records), size))
        window = 3
        inflight: deque[tuple[list[tuple[_Record, Message]], Future | None]] = deque()
        overall = Limiter(self.concurrency)

        def submit() -> None:
            part = lease.keep_owned(groups.popleft(), groups)
            ready = self._prepare(part, batch, renderer, report, token)
            future = None
            if ready:
                future = asyncio.run_coroutine_threadsafe(self._send_all(ready, overall), self.runtime.loop)
            inflight.append((ready, future))

        try:
            while groups or inflight:
                while groups and len(inflight) < window:
                    submit()
                ready, future = inflight[0]
                if groups:
                    submit()
                inflight.popleft()
                if future is None:
                    continue
                sent = future.result()
                self._store([record for record, _ in ready],
                            dict(zip((record.pk for record, _ in ready), sent, strict=True)), report, token)
        finally:
            # A failure here (the database went away) must not leave sends running behind the caller's back.
            for _, future in inflight:
                if future is not None:
                    try:
                        future.result()
                    except BaseException:  # noqa: BLE001 - the first error is the one raised
                        pass
        self.expire_inbox_secrets()
        logger.info("delivery batch: %s", report)
        return report

    def _prepare(self, part: list[_Record], batch: _Batch, renderer: Renderer, report: DeliveryReport,
                 token: uuid.UUID) -> list[tuple[_Record, Message]]:
        """Render a group; a record that cannot be rendered fails at once (its outcome is written here)."""
        ready: list[tuple[_Record, Message]] = []
        outcomes: dict[int, _Outcome] = {}
        for record in part:
            try:
                ready.append((record, message_for(record, batch, renderer)))
            except SecretPurged:
                outcomes[record.pk] = _Outcome(permanent("secret_purged", "the event's secrets were purged"))
            except DatabaseError:
                raise  # not this record's fault: the batch is retried
            except Exception as err:  # noqa: BLE001 - one record's problem (a template, a handler bug) stays its own
                outcomes[record.pk] = _Outcome(permanent(RENDER_ERROR, render_error_detail(err)))
                logger.error(
                    "render failed: tenant_id=%s record_id=%s event_type=%s channel=%s error=%s",
                    record.tenant_id, record.pk, record.event_type, record.channel, type(err).__name__,
                )
        if outcomes:
            self._store([record for record in part if record.pk in outcomes], outcomes, report, token)
        return ready

    async def _send_all(self, ready: Sequence[tuple[_Record, Message]], overall: Limiter) -> list[_Outcome]:
        async def one(record: _Record, message: Message) -> _Outcome:
            async with overall:
                return await self._deliver(message, self.chains.chain(record.tenant_id, message.channel))

        return list(await asyncio.gather(*(one(record, message) for record, message in ready)))

    async def _deliver(self, message: Message, chain: list[Sender]) -> _Outcome:
        """Try the chain in order: a transient failure or an open circuit moves on to the next provider."""
        # No provider at all is a configuration gap: transient, so records wait (and check_setup says why).
        outcome = _Outcome(transient("no_provider", f"no provider configured for {message.channel.value}"))
        candidates = [sender for sender in chain if sender.supports(message)]
        skipped_open: list[CircuitBreaker] = []
        for sender in candidates:
            guard = self._guards.get(sender)
            if guard is None:
                guard = self._guards[sender] = _Guard(sender)
            breaker = guard.breaker
            if not breaker.allows():
                skipped_open.append(breaker)
                continue
            if guard.bucket.rate:
                await guard.bucket.acquire()
            started, clock = timezone.now(), time.perf_counter()
            async with guard.limit:
                try:
                    result = await sender.send(message)
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # noqa: BLE001 - a provider bug must not take the batch down
                    logger.exception("provider %s raised on record %s", sender.label, message.record_id)
                    result = transient("provider_error", type(err).__name__)
            elapsed = time.perf_counter() - clock
            histogram = self._send_seconds.get((message.channel, sender))
            if histogram is None:
                histogram = metrics.SEND_SECONDS.labels(message.channel.value, sender.name)
                self._send_seconds[(message.channel, sender)] = histogram
            histogram.observe(elapsed)
            breaker.record(result)
            outcome.attempts.append(_attempt(message, sender, started, elapsed, result))
            outcome.result, outcome.sender = result, sender.label
            if result.ok or (isinstance(result, Failed) and not result.transient):
                return outcome
        if not outcome.attempts and skipped_open:
            wait = min(b.retry_in for b in skipped_open)
            outcome.result = transient("circuit_open", "every provider's circuit is open", retry_after=wait)
        elif not candidates and message.channel == Channel.PUSH:
            outcome.result = permanent("no_provider", f"no provider for platform {message.target.get('platform')}")
        return outcome

    # --- outcomes -------------------------------------------------------------------------------------------
    def _store(self, records: list[_Record], outcomes: dict[int, _Outcome],
               report: DeliveryReport, token: uuid.UUID) -> None:
        now = timezone.now()
        attempts: list[tuple] = []
        gone_devices: dict[int, str] = {}
        counts: Counter[tuple[str, str, str]] = Counter()
        for record in records:
            outcome = outcomes[record.pk]
            try:
                _apply(record, outcome, now)
            except Exception:  # noqa: BLE001 - one odd outcome must not lose the chunk's others
                logger.exception("could not apply the outcome of record %s; it will be retried", record.pk)
                record.status, record.next_attempt_at = Status.RETRYING, now + timedelta(minutes=5)
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
            owned = _write_outcomes(records, token, now)
            lost = len(records) - len(owned)
            if lost:
                logger.warning("lease expired on %d record(s) of this batch; their outcomes are dropped", lost)
                attempts = [row for row in attempts if row[0] in owned]
            _insert_attempts(attempts)
            for device_id, code in gone_devices.items():
                Device.objects.filter(pk=device_id).update(active=False, deactivated_reason=code[:64])
            # Secrets can only need purging for events whose handler declares some, once a record is final.
            final = {record.event_id for record in records if record.pk in owned
                     and record.status in (Status.SENT, Status.FAILED) and _has_secrets(record.event_type)}
            purge_final_secrets(final)
        if gone_devices:
            logger.info("deactivated %d device(s) their provider reported gone", len(gone_devices))

    async def aclose(self) -> None:
        for sender in self.chains.all_senders():
            await sender.aclose()


class _Guard:
    """What stands between the engine and one provider instance: its circuit breaker, rate bucket and
    concurrency bound, made once (building them per send was 3% of a send)."""

    __slots__ = ("breaker", "bucket", "limit")

    def __init__(self, sender: Sender) -> None:
        rate = sender.options.get("rate_per_second", sender.rate_per_second)
        self.breaker = CircuitBreaker()
        self.bucket = TokenBucket(float(rate) if rate else None)
        self.limit = Limiter(max(int(sender.options.get("max_concurrency", sender.max_concurrency)), 1))


def _attempt(message: Message, sender: Sender, started: datetime, elapsed: float, result: SendResult) -> tuple:
    """One DeliveryAttempt row, as values in ATTEMPT_FIELDS order."""
    if isinstance(result, Sent):
        return (message.record_id, message.tenant_id, sender.label, started, int(elapsed * 1000), "sent", "", "",
                result.provider_message_id[:255])
    return (message.record_id, message.tenant_id, sender.label, started, int(elapsed * 1000), result.kind.value,
            result.code[:64], result.detail[:500], "")


def _has_secrets(event_type: str) -> bool:
    try:
        return bool(event_registry.handler_for(event_type).sensitive_fields)
    except Exception:  # noqa: BLE001 - an unknown type: check, as before
        return True


def _write_outcomes(records: list[_Record], token: uuid.UUID, now: datetime) -> set[int]:
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
            f"UPDATE {table} AS t SET status = {column}'status', reason = {column}'reason', "
            f"error_detail = {column}'error_detail', provider = {column}'provider', "
            f"provider_message_id = {column}'provider_message_id', attempts = ({column}'attempts')::integer, "
            f"next_attempt_at = ({column}'next_attempt_at')::timestamptz, sent_at = ({column}'sent_at')::timestamptz, "
            "updated_at = %s, claim_token = NULL FROM (SELECT %s::jsonb AS m) AS o "
            "WHERE t.id = ANY(%s::bigint[]) AND t.claim_token = %s RETURNING t.id",
            [now, outcomes, array_literal(r.pk for r in records), token],
        )
        return {row[0] for row in cursor.fetchall()}


def _insert_attempts(rows: list[tuple]) -> None:
    append_rows(DeliveryAttempt, ATTEMPT_FIELDS, rows)


@cache
def _latency(channel: str) -> Any:
    """The latency histogram of a channel: labels() takes a lock and a lookup each call."""
    return metrics.DELIVERY_LATENCY.labels(channel)


def _apply(record: _Record, outcome: _Outcome, now: datetime) -> None:
    result = outcome.result
    record.attempts += 1
    record.provider = outcome.sender or record.provider
    record.updated_at = now
    if isinstance(result, Sent):
        _latency(record.channel).observe(max((now - record.created_at).total_seconds(), 0))
        record.status, record.reason, record.error_detail = Status.SENT, "", ""
        record.provider_message_id = result.provider_message_id[:255]
        record.sent_at, record.next_attempt_at = now, None
        return
    record.reason, record.error_detail = result.code[:64], result.detail[:2000]
    if result.kind == FailureKind.PERMANENT or record.attempts >= max_attempts(record.channel):
        record.status, record.next_attempt_at = Status.FAILED, None
        logger.warning(
            "delivery failed: tenant_id=%s record_id=%s channel=%s provider=%s error_code=%s attempts=%d",
            record.tenant_id, record.pk, record.channel, record.provider, result.code, record.attempts,
        )
    else:
        record.status = Status.RETRYING
        record.next_attempt_at = now + timedelta(seconds=backoff_seconds(record.attempts, result.retry_after))
        logger.info(
            "delivery will be retried: tenant_id=%s record_id=%s channel=%s error_code=%s attempt=%d next=%s",
            record.tenant_id, record.pk, record.channel, result.code, record.attempts,
            record.next_attempt_at.isoformat(),
        )


def _contacts_for(records: list[_Record]) -> dict[tuple[str, str], dict[str, str]]:
    users = {(r.tenant_id, r.user_id) for r in records if r.user_id}
    if not users:
        return {}
    rows = Contact.objects.filter(tenant_id__in={t for t, _ in users}, user_id__in={u for _, u in users})
    return {(c.tenant_id, c.user_id): {k: v for k, v in c.as_dict().items() if v} for c in rows}


class _Lease:
    """A batch's claim. Within the lease no other worker can take its records (they are not due), so the
    lease is renewed, and ownership checked again, only once a tenth of it has passed since the last renewal."""

    def __init__(self, token: uuid.UUID, seconds: float) -> None:
        self.token = token
        self.seconds = seconds
        self.renewed = time.monotonic()

    def keep_owned(self, part: list[_Record], later: deque[list[_Record]]) -> list[_Record]:
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


_engine = ProcessSingleton(DeliveryEngine)


def default_engine() -> DeliveryEngine:
    return _engine.get()


def reset_default_engine() -> None:
    """Forget the process's engine, with its breakers, buckets and provider instances (tests)."""
    _engine.reset()


def deliver_due(batch_size: int | None = None) -> DeliveryReport:
    return default_engine().deliver_due(batch_size)


def deliver_until_idle(max_batches: int | None = None, engine: DeliveryEngine | None = None) -> DeliveryReport:
    """Deliver everything due now, batch after batch (`run_delivery_worker --once`)."""
    engine = engine or default_engine()
    total = DeliveryReport()
    batches = 0
    while max_batches is None or batches < max_batches:
        report = engine.deliver_due()
        total.add(report)
        batches += 1
        if report.claimed == 0:
            break
    return total


class ClaimSizer:
    """How many records the loop claims next. A claim is worked through before the next one, so what falls due
    meanwhile waits for all of it: claims stay small (two rounds of `concurrency`) for latency. Only a backlog
    (several full claims in a row; one full claim is just a burst) doubles them, up to DELIVERY_BATCH_SIZE, for
    throughput; the first claim that is not full brings them back down."""

    FULL_IN_A_ROW = 3

    def __init__(self, smallest: int, largest: int) -> None:
        self.smallest, self.largest = min(smallest, largest), largest
        self.size = self.smallest
        self._full = 0

    def update(self, claimed: int) -> int:
        if claimed < self.size:
            self.size, self._full = self.smallest, 0
        else:
            self._full += 1
            if self._full >= self.FULL_IN_A_ROW:
                self.size = min(self.size * 2, self.largest)
        return self.size


class DeliveryLoop(threading.Thread):
    """The worker as a background thread (inside `manage.py serve`) or the main loop of run_delivery_worker."""

    def __init__(self, poll_seconds: float | None = None, concurrency: int | None = None) -> None:
        super().__init__(name="delivery-worker", daemon=True)
        self.poll_seconds = poll_seconds or float(get_setting("DELIVERY_POLL_SECONDS", 1.0))
        self.linger_seconds = float(get_setting("DELIVERY_LINGER_MS", 50)) / 1000
        self.engine = DeliveryEngine(concurrency) if concurrency else default_engine()
        self.stopping = threading.Event()
        self._waiter = DueWaiter()

    def run(self) -> None:
        logger.info("delivery worker started (poll every %.1fs, concurrency %d)", self.poll_seconds,
                    self.engine.concurrency)
        failures = 0
        claims = ClaimSizer(2 * self.engine.concurrency, int(get_setting("DELIVERY_BATCH_SIZE", 1000)))
        while not self.stopping.is_set():
            close_old_connections()
            try:
                asked = claims.size
                report = self.engine.deliver_due(asked)
                claims.update(report.claimed)
                failures = 0
            except Exception as err:  # noqa: BLE001 - the worker outlives any one batch's problem
                failures += 1
                wait = min(2 ** failures, 60)
                if isinstance(err, DatabaseError):
                    logger.error("delivery worker: database error %s, retrying in %ss", type(err).__name__, wait)
                else:
                    logger.exception("delivery worker: batch failed, retrying in %ss", wait)
                self.stopping.wait(wait)
                continue
            if report.claimed == 0 and not self.stopping.is_set():
                self._waiter.wait(self.poll_seconds)
            elif report.claimed < asked // 2 and self.linger_seconds:
                # Little was due: let more fall due before claiming again. A claim has a fixed cost (a dozen
                # queries, ~10 ms); claiming at once after every small claim spent the worker on that cost alone.
                self.stopping.wait(self.linger_seconds)
        self._waiter.close()
        try:
            self.engine.runtime.run(self.engine.aclose())  # SMTP QUIT, HTTP sessions closed
        except Exception:  # noqa: BLE001 - stopping anyway
            logger.warning("closing provider connections failed", exc_info=True)
        connection.close()
        logger.info("delivery worker stopped")

    def stop(self) -> None:
        self.stopping.set()
        wake_in_process()
