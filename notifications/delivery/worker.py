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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.db.utils import DatabaseError
from django.utils import timezone

from notifications.channels.base import Failed, FailureKind, Message, Sender, SendResult, Sent, permanent, transient
from notifications.channels.models import Device
from notifications.channels.registry import ProviderChains
from notifications.channels.resilience import CircuitBreaker, TokenBucket
from notifications.conf import get_setting
from notifications.db import fast_bulk_update
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.delivery.secrets import SecretPurged, expire_inbox_secrets, purge_final_secrets
from notifications.delivery.runtime import get_runtime
from notifications.enums import Channel, Status
from notifications.errors import NotificationError
from notifications.events.registry import event_registry
from notifications.observability import metrics
from notifications.rendering.context import build_context
from notifications.rendering.service import Renderer
from notifications.security import open_fields
from notifications.utils.lazy import ProcessSingleton
from notifications.tenants.models import Contact

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
OUTCOME_FIELDS = [
    "status", "reason", "error_detail", "provider", "provider_message_id", "attempts", "next_attempt_at",
    "sent_at", "updated_at", "claim_token",
]


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
    attempts: list[DeliveryAttempt] = field(default_factory=list)


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


def claim_due(batch_size: int, now: datetime, token: uuid.UUID | None = None) -> list[int]:
    """Mark up to batch_size due records as ours until the lease ends. A 'sending' record whose lease ended
    (its worker died) is due again."""
    due = Q(status__in=[Status.PENDING, Status.RETRYING, Status.SENDING], next_attempt_at__lte=now)
    with transaction.atomic():
        query = NotificationRecord.objects.filter(due).exclude(channel=Channel.IN_APP).order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("id", flat=True)[:batch_size])
        if ids:
            NotificationRecord.objects.filter(id__in=ids).update(
                status=Status.SENDING, next_attempt_at=now + lease_duration(), updated_at=now,
                claim_token=token or uuid.uuid4(),
            )
    return ids


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
        self.chains = ProviderChains()
        self.runtime = get_runtime()
        self._breakers: dict[Sender, CircuitBreaker] = {}
        self._buckets: dict[Sender, TokenBucket] = {}
        self._limits: dict[Sender, asyncio.Semaphore] = {}

    # --- one batch ------------------------------------------------------------------------------------------
    def deliver_due(self, batch_size: int | None = None) -> DeliveryReport:
        now = timezone.now()
        token = uuid.uuid4()
        ids = claim_due(batch_size or int(get_setting("DELIVERY_BATCH_SIZE", 200)), now, token)
        report = DeliveryReport(claimed=len(ids))
        if not ids:
            return report
        records = list(NotificationRecord.objects.filter(id__in=ids).select_related("event", "tenant", "device"))
        for sender in self.chains.refresh({r.tenant_id for r in records}):
            self.runtime.run(sender.aclose())
            self._breakers.pop(sender, None)
            self._buckets.pop(sender, None)
            self._limits.pop(sender, None)
        outcomes: dict[int, _Outcome] = {}
        ready: list[tuple[NotificationRecord, Message]] = []
        contacts = _contacts_for(records)
        renderer = Renderer({r.tenant_id for r in records})
        for record in records:
            try:
                ready.append((record, _message_for(record, renderer, contacts)))
            except SecretPurged:
                outcomes[record.pk] = _Outcome(permanent("secret_purged", "the event's secrets were purged"))
            except Exception as err:  # noqa: BLE001 - one record's problem (a handler bug, a bad key) stays its own
                detail = str(err) if isinstance(err, NotificationError) else "cannot build the message"
                outcomes[record.pk] = _Outcome(permanent("render_error", f"{type(err).__name__}: {detail}"))
                logger.error(
                    "render failed: tenant_id=%s record_id=%s event_type=%s channel=%s error=%s",
                    record.tenant_id, record.pk, record.event_type, record.channel, type(err).__name__,
                )
        # Outcomes are written chunk by chunk, so a worker killed mid-batch re-sends at most one chunk.
        unsendable = [record for record in records if record.pk in outcomes]
        if unsendable:
            self._store(unsendable, outcomes, report, token)
        chunk = max(self.concurrency, 1)
        for start in range(0, len(ready), chunk):
            part = ready[start : start + chunk]
            # Renew the lease of this chunk, and send only what is still ours: a slow batch whose lease ran out
            # was taken over by another worker, which sends those records itself.
            owned = renew_lease([record.pk for record, _ in part], token)
            if len(owned) < len(part):
                logger.warning("lease lost on %d record(s); another worker has them", len(part) - len(owned))
            part = [(record, message) for record, message in part if record.pk in owned]
            if not part:
                continue
            sent = self.runtime.run(self._send_all(part))
            outcomes.update(zip((record.pk for record, _ in part), sent, strict=True))
            self._store([record for record, _ in part], outcomes, report, token)
        logger.info("delivery batch: %s", report)
        return report

    async def _send_all(self, ready: Sequence[tuple[NotificationRecord, Message]]) -> list[_Outcome]:
        overall = asyncio.Semaphore(self.concurrency)

        async def one(record: NotificationRecord, message: Message) -> _Outcome:
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
            breaker = self._breakers.setdefault(sender, CircuitBreaker())
            if not breaker.allows():
                skipped_open.append(breaker)
                continue
            rate = sender.options.get("rate_per_second", sender.rate_per_second)
            await self._buckets.setdefault(sender, TokenBucket(float(rate) if rate else None)).acquire()
            limit = self._limits.setdefault(
                sender, asyncio.Semaphore(int(sender.options.get("max_concurrency", sender.max_concurrency)))
            )
            started, clock = timezone.now(), time.perf_counter()
            async with limit:
                try:
                    result = await sender.send(message)
                except asyncio.CancelledError:
                    raise
                except Exception as err:  # noqa: BLE001 - a provider bug must not take the batch down
                    logger.exception("provider %s raised on record %s", sender.label, message.record_id)
                    result = transient("provider_error", type(err).__name__)
            elapsed = time.perf_counter() - clock
            metrics.SEND_SECONDS.labels(message.channel.value, sender.name).observe(elapsed)
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
    def _store(self, records: list[NotificationRecord], outcomes: dict[int, _Outcome],
               report: DeliveryReport, token: uuid.UUID) -> None:
        now = timezone.now()
        attempts: list[DeliveryAttempt] = []
        gone_devices: dict[int, str] = {}
        for record in records:
            outcome = outcomes[record.pk]
            try:
                _apply(record, outcome, now)
            except Exception:  # noqa: BLE001 - one odd outcome must not lose the chunk's others
                logger.exception("could not apply the outcome of record %s; it will be retried", record.pk)
                record.status, record.next_attempt_at = Status.RETRYING, now + timedelta(minutes=5)
            attempts.extend(outcome.attempts)
            result = outcome.result
            if isinstance(result, Failed) and result.invalid_target and record.device_id:
                gone_devices[record.device_id] = result.code
            metrics.DELIVERIES.labels(record.channel, record.provider or "-", record.status).inc()
            if record.status == Status.SENT:
                report.sent += 1
            elif record.status == Status.RETRYING:
                report.retrying += 1
            else:
                report.failed += 1
        for record in records:
            record.claim_token = None
        with transaction.atomic():
            # Only records still under this batch's lease: if it expired and another worker took one over, that
            # worker's outcome stands.
            owned = set(
                NotificationRecord.objects.select_for_update()
                .filter(id__in=[r.pk for r in records], claim_token=token).values_list("id", flat=True)
            )
            lost = len(records) - len(owned)
            if lost:
                logger.warning("lease expired on %d record(s) of this batch; their outcomes are dropped", lost)
            records = [r for r in records if r.pk in owned]
            fast_bulk_update(records, OUTCOME_FIELDS)
            DeliveryAttempt.objects.bulk_create(attempts, batch_size=500)
            for device_id, code in gone_devices.items():
                Device.objects.filter(pk=device_id).update(active=False, deactivated_reason=code[:64])
            purge_final_secrets({record.event_id for record in records})
            expire_inbox_secrets(now)
        if gone_devices:
            logger.info("deactivated %d device(s) their provider reported gone", len(gone_devices))

    async def aclose(self) -> None:
        for sender in self.chains.all_senders():
            await sender.aclose()


def _attempt(message: Message, sender: Sender, started: datetime, elapsed: float, result: SendResult) -> DeliveryAttempt:
    if isinstance(result, Sent):
        return DeliveryAttempt(record_id=message.record_id, tenant_id=message.tenant_id, provider=sender.label,
                               started_at=started, duration_ms=int(elapsed * 1000), outcome="sent",
                               provider_message_id=result.provider_message_id[:255])
    return DeliveryAttempt(record_id=message.record_id, tenant_id=message.tenant_id, provider=sender.label,
                           started_at=started, duration_ms=int(elapsed * 1000), outcome=result.kind.value,
                           error_code=result.code[:64], error_detail=result.detail[:500])


def _apply(record: NotificationRecord, outcome: _Outcome, now: datetime) -> None:
    result = outcome.result
    record.attempts += 1
    record.provider = outcome.sender or record.provider
    record.updated_at = now
    if isinstance(result, Sent):
        metrics.DELIVERY_LATENCY.labels(record.channel).observe(max((now - record.created_at).total_seconds(), 0))
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


def _contacts_for(records: list[NotificationRecord]) -> dict[tuple[str, str], dict[str, str]]:
    users = {(r.tenant_id, r.user_id) for r in records if r.user_id}
    if not users:
        return {}
    rows = Contact.objects.filter(tenant_id__in={t for t, _ in users}, user_id__in={u for _, u in users})
    return {(c.tenant_id, c.user_id): {k: v for k, v in c.as_dict().items() if v} for c in rows}


def _message_for(
    record: NotificationRecord, renderer: Renderer, contacts: dict[tuple[str, str], dict[str, str]]
) -> Message:
    handler = event_registry.handler_for(record.event_type)
    event = record.event
    payload = handler.load_payload(open_fields(event.payload))
    contact = {**contacts.get((record.tenant_id, record.user_id), {}), **handler.get_contact_fields(payload)}
    context = build_context(
        handler, event_type=record.event_type, payload=payload, tenant=record.tenant, contact=contact,
        event_id=event.event_id, user_id=record.user_id, occurred_at=event.occurred_at,
    )
    content = renderer.render(handler, record.event_type, Channel(record.channel), context, record.tenant_id)
    target = {}
    if record.device is not None:
        target = {"platform": record.device.platform, "token": record.device.token,
                  "subscription": record.device.subscription, "device_id": record.device.pk}
    return Message(
        record_id=record.pk, tenant_id=record.tenant_id, channel=Channel(record.channel), recipient=record.recipient,
        fields=content.fields, event_type=record.event_type, user_id=record.user_id,
        data={"template": content.source, **({"mandatory": "1"} if handler.mandatory else {})}, target=target,
    )


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


class DeliveryLoop(threading.Thread):
    """The worker as a background thread (inside `manage.py serve`) or the main loop of run_delivery_worker."""

    def __init__(self, poll_seconds: float | None = None, concurrency: int | None = None) -> None:
        super().__init__(name="delivery-worker", daemon=True)
        self.poll_seconds = poll_seconds or float(get_setting("DELIVERY_POLL_SECONDS", 1.0))
        self.engine = DeliveryEngine(concurrency) if concurrency else default_engine()
        self.stopping = threading.Event()

    def run(self) -> None:
        logger.info("delivery worker started (poll every %.1fs, concurrency %d)", self.poll_seconds,
                    self.engine.concurrency)
        failures = 0
        while not self.stopping.is_set():
            close_old_connections()
            try:
                report = self.engine.deliver_due()
                if report.claimed == 0:
                    expire_inbox_secrets()
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
            if report.claimed == 0:
                self.stopping.wait(self.poll_seconds)
        connection.close()
        logger.info("delivery worker stopped")

    def stop(self) -> None:
        self.stopping.set()
