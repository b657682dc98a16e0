"""Claims due records in batches, renders them, hands them to the channel's sender and stores the outcomes in
bulk. A claim is a lease: a record left in 'sending' by a crashed worker is due again when the lease expires."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import close_old_connections, connection, transaction
from django.db.models import Q
from django.db.utils import DatabaseError
from django.utils import timezone

from notifications.channels.base import Failed, FailureKind, Message, SendResult, Sent
from notifications.channels.registry import get_sender
from notifications.conf import get_setting
from notifications.delivery.models import NotificationRecord
from notifications.enums import Channel, Status
from notifications.errors import NotificationError
from notifications.events.registry import event_registry
from notifications.observability import metrics
from notifications.rendering.context import build_context
from notifications.rendering.service import Renderer
from notifications.security import open_fields
from notifications.tenants.models import Contact

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
OUTCOME_FIELDS = [
    "status", "reason", "error_detail", "provider", "provider_message_id", "attempts", "next_attempt_at",
    "sent_at", "updated_at",
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


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with +-20% jitter; a provider's Retry-After is a floor."""
    base = float(get_setting("RETRY_BASE_SECONDS", 30.0))
    delay = min(base * (2 ** max(attempts - 1, 0)), 6 * 3600.0) * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


def claim_due(batch_size: int, now: datetime) -> list[int]:
    due = Q(status__in=[Status.PENDING, Status.RETRYING, Status.SENDING], next_attempt_at__lte=now)
    with transaction.atomic():
        query = NotificationRecord.objects.filter(due).exclude(channel=Channel.IN_APP).order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            query = query.select_for_update(skip_locked=True)
        ids = list(query.values_list("id", flat=True)[:batch_size])
        if ids:
            NotificationRecord.objects.filter(id__in=ids).update(
                status=Status.SENDING, next_attempt_at=now + LEASE, updated_at=now
            )
    return ids


def deliver_due(batch_size: int | None = None) -> DeliveryReport:
    """One batch: claim, render, send, store outcomes."""
    now = timezone.now()
    ids = claim_due(batch_size or int(get_setting("DELIVERY_BATCH_SIZE", 200)), now)
    report = DeliveryReport(claimed=len(ids))
    if not ids:
        return report
    records = list(NotificationRecord.objects.filter(id__in=ids).select_related("event", "tenant"))
    contacts = _contacts_for(records)
    renderer = Renderer({record.tenant_id for record in records})
    by_channel: dict[Channel, list[tuple[NotificationRecord, Message]]] = defaultdict(list)
    for record in records:
        try:
            by_channel[Channel(record.channel)].append((record, _message_for(record, renderer, contacts)))
        except (NotificationError, NotImplementedError, ValueError, KeyError, TypeError) as err:
            _apply(record, Failed(FailureKind.PERMANENT, "render_error", f"{type(err).__name__}: {err}"), "-", now)
            logger.error(
                "render failed: tenant_id=%s record_id=%s event_type=%s channel=%s error=%s",
                record.tenant_id, record.pk, record.event_type, record.channel, type(err).__name__,
            )
    for channel, batch in by_channel.items():
        sender = get_sender(channel)
        started = time.perf_counter()
        results = sender.send_batch([message for _, message in batch])
        elapsed = (time.perf_counter() - started) / max(len(batch), 1)
        for (record, _), result in zip(batch, results, strict=True):
            metrics.SEND_SECONDS.labels(channel.value, sender.name).observe(elapsed)
            _apply(record, result, sender.name, timezone.now())
    NotificationRecord.objects.bulk_update(records, OUTCOME_FIELDS, batch_size=500)
    for record in records:
        metrics.DELIVERIES.labels(record.channel, record.provider or "-", record.status).inc()
        if record.status == Status.SENT:
            report.sent += 1
        elif record.status == Status.RETRYING:
            report.retrying += 1
        else:
            report.failed += 1
    logger.info("delivery batch: %s", report)
    return report


def _contacts_for(records: list[NotificationRecord]) -> dict[tuple[str, str], dict[str, str]]:
    users = {(r.tenant_id, r.user_id) for r in records if r.user_id}
    if not users:
        return {}
    rows = Contact.objects.filter(
        tenant_id__in={t for t, _ in users}, user_id__in={u for _, u in users}
    )
    return {(c.tenant_id, c.user_id): {k: v for k, v in c.as_dict().items() if v} for c in rows}


def _message_for(
    record: NotificationRecord, renderer: Renderer, contacts: dict[tuple[str, str], dict[str, str]]
) -> Message:
    handler = event_registry.handler_for(record.event_type)
    event = record.event
    payload = handler.load_payload(open_fields(event.payload))
    contact = {**contacts.get((record.tenant_id, record.user_id), {}), **handler.get_contact_fields(payload)}
    context = build_context(
        handler,
        event_type=record.event_type,
        payload=payload,
        tenant=record.tenant,
        contact=contact,
        event_id=event.event_id,
        user_id=record.user_id,
        occurred_at=event.occurred_at,
    )
    content = renderer.render(handler, record.event_type, Channel(record.channel), context, record.tenant_id)
    return Message(
        record_id=record.pk,
        tenant_id=record.tenant_id,
        channel=Channel(record.channel),
        recipient=record.recipient,
        fields=content.fields,
        event_type=record.event_type,
        user_id=record.user_id,
        data={"template": content.source},
    )


def _apply(record: NotificationRecord, result: SendResult, provider: str, now: datetime) -> None:
    record.attempts += 1
    record.provider = provider
    record.updated_at = now
    if isinstance(result, Sent):
        record.status, record.reason, record.error_detail = Status.SENT, "", ""
        record.provider_message_id = result.provider_message_id[:255]
        record.sent_at, record.next_attempt_at = now, None
        return
    record.reason, record.error_detail = result.code[:64], result.detail[:2000]
    max_attempts = int(get_setting("MAX_ATTEMPTS", 5))
    if result.kind == FailureKind.PERMANENT or record.attempts >= max_attempts:
        record.status, record.next_attempt_at = Status.FAILED, None
        logger.warning(
            "delivery failed: tenant_id=%s record_id=%s channel=%s provider=%s code=%s attempts=%d",
            record.tenant_id, record.pk, record.channel, provider, result.code, record.attempts,
        )
    else:
        record.status = Status.RETRYING
        record.next_attempt_at = now + timedelta(seconds=backoff_seconds(record.attempts, result.retry_after))
        logger.info(
            "delivery will be retried: tenant_id=%s record_id=%s channel=%s code=%s attempt=%d next=%s",
            record.tenant_id, record.pk, record.channel, result.code, record.attempts,
            record.next_attempt_at.isoformat(),
        )


def deliver_until_idle(max_batches: int | None = None) -> DeliveryReport:
    """Deliver everything due now, batch after batch (`run_delivery_worker --once`)."""
    total = DeliveryReport()
    batches = 0
    while max_batches is None or batches < max_batches:
        report = deliver_due()
        total.add(report)
        batches += 1
        if report.claimed == 0:
            break
    return total


class DeliveryLoop(threading.Thread):
    """The worker as a background thread (inside `manage.py serve`) or the main loop of run_delivery_worker."""

    def __init__(self, poll_seconds: float | None = None) -> None:
        super().__init__(name="delivery-worker", daemon=True)
        self.poll_seconds = poll_seconds or float(get_setting("DELIVERY_POLL_SECONDS", 1.0))
        self.stopping = threading.Event()

    def run(self) -> None:
        logger.info("delivery worker started (poll every %.1fs)", self.poll_seconds)
        failures = 0
        while not self.stopping.is_set():
            close_old_connections()
            try:
                report = deliver_due()
                failures = 0
            except DatabaseError as err:
                failures += 1
                wait = min(2 ** failures, 60)
                logger.error("delivery worker: database error %s, retrying in %ss", type(err).__name__, wait)
                self.stopping.wait(wait)
                continue
            if report.claimed == 0:
                self.stopping.wait(self.poll_seconds)
        connection.close()
        logger.info("delivery worker stopped")

    def stop(self) -> None:
        self.stopping.set()
