"""The delivery engine of one worker process, and one batch's flow: claim due records under a lease, load them,
render them group by group, send each group through its tenant's provider chains on the process's event loop,
and store each group's outcomes. A record left in 'sending' by a crashed worker is due again when its lease
expires. The parts: claims, batch, dispatch, policy, store, housekeeping."""

from __future__ import annotations

import logging
import uuid
from collections import deque

from django.db import connection
from django.db.utils import DatabaseError
from django.utils import timezone

from notifications.channels.base import Message, Sender, permanent
from notifications.conf import get_setting
from notifications.delivery.batch import Batch, Record, load_batch
from notifications.delivery.claims import Lease, claim_due
from notifications.delivery.compose import message_for
from notifications.delivery.dispatch import Dispatcher, Outcome, pipelined
from notifications.delivery.housekeeping import InboxExpiry
from notifications.delivery.inbox import deliver_inbox, delivered_in_worker
from notifications.delivery.policy import lease_duration
from notifications.delivery.report import DeliveryReport
from notifications.delivery.runtime import get_runtime
from notifications.delivery.store import store_outcomes
from notifications.digests.closing import close_digests
from notifications.digests.sweep import OrphanSweep
from notifications.errors import HandlerNotFound, SecretPurged
from notifications.events.registry import HANDLERS_HINT
from notifications.history.retention import RetentionSweep
from notifications.rendering.failures import RENDER_ERROR, render_error_detail
from notifications.rendering.service import Renderer
from notifications.utils.lazy import ProcessSingleton
from notifications.utils.limiter import Limiter

logger = logging.getLogger(__name__)

#: A record whose event type has no handler in this worker's process fails at once with this reason.
NO_HANDLER = "no_handler"


def no_handler_detail(event_type: str) -> str:
    return (f"no handler for event type {event_type!r} in the delivery worker (one registered only in another "
            f"process's memory, e.g. a Django shell, is unknown here): {HANDLERS_HINT}; restart the worker, then "
            f"`manage.py retry_failed --reason {NO_HANDLER}`")


class DeliveryEngine:
    """Owns the provider chains, breakers, rate buckets and concurrency bounds of one worker process."""

    def __init__(self, concurrency: int | None = None) -> None:
        self.concurrency = concurrency or int(get_setting("DELIVERY_CONCURRENCY", 100))
        # The most bulk-lane records a claim takes (delivery.claims): a broadcast's backlog goes out in claims of
        # two rounds of `concurrency`, so a 2FA code falling due meanwhile waits for one small claim at most.
        self.bulk_claim = int(get_setting("DELIVERY_BULK_CLAIM", 0)) or 2 * self.concurrency
        self.dispatch = Dispatcher()
        self.chains = self.dispatch.chains
        self.runtime = get_runtime()
        self.inbox_expiry = InboxExpiry()
        self.digest_sweep = OrphanSweep()  # windows whose digest record was cancelled (digests/sweep.py)
        # Expired history, in bounded batches (history/retention.py), on a thread of its own on PostgreSQL (the
        # test suite sweeps inline: RETENTION_IN_BACKGROUND).
        self.retention = RetentionSweep(background=connection.vendor == "postgresql"
                                        and bool(get_setting("RETENTION_IN_BACKGROUND", True)))

    def deliver_due(self, batch_size: int | None = None) -> DeliveryReport:
        now = timezone.now()
        token = uuid.uuid4()
        ids = claim_due(batch_size or int(get_setting("DELIVERY_BATCH_SIZE", 1000)), now, token, self.bulk_claim)
        report = DeliveryReport(claimed=len(ids))
        if not ids:
            self.inbox_expiry.sweep()
            self.digest_sweep.sweep()
            self.retention.sweep()
            return report
        lease = Lease(token, lease_duration().total_seconds())
        batch = load_batch(ids)
        tenant_ids = {r.tenant_id for r in batch.records}
        self._refresh_providers(tenant_ids)
        renderer = Renderer(tenant_ids)
        # The batch goes out in groups of half the concurrency; the overall bound holds across the groups in flight.
        # A worker killed mid-batch re-sends at most the groups in flight (up to two `concurrency`-sized chunks).
        size = max(self.concurrency // 2, 1)
        groups = deque(batch.records[start : start + size] for start in range(0, len(batch.records), size))
        overall = Limiter(self.concurrency)

        def take() -> list[tuple[Record, Message]]:
            return self._prepare(lease.keep_owned(groups.popleft(), groups), batch, renderer, report, token)

        def store(ready: list[tuple[Record, Message]], sent: list[Outcome]) -> None:
            records = [record for record, _ in ready]
            store_outcomes(records, dict(zip((record.pk for record in records), sent, strict=True)), report, token)

        pipelined(groups, take, lambda ready: self.dispatch.send_all(ready, overall), store, self.runtime.loop)
        self.inbox_expiry.sweep()
        self.retention.sweep()  # a worker that is never idle prunes too
        logger.info("delivery batch: %s", report)
        return report

    def _refresh_providers(self, tenant_ids: set[str]) -> None:
        """Providers of tenants whose configuration changed are closed and forgotten, with their guards."""
        for sender in self.chains.refresh(tenant_ids):
            self.runtime.run(sender.aclose())
            self.dispatch.forget(sender)

    def _prepare(self, part: list[Record], batch: Batch, renderer: Renderer, report: DeliveryReport,
                 token: uuid.UUID) -> list[tuple[Record, Message]]:
        """Render a group; a record that cannot be rendered fails at once (its outcome is written here)."""
        ready: list[tuple[Record, Message]] = []
        outcomes: dict[int, Outcome] = {}
        # Digest records close their windows first (notifications/digests/closing.py).
        digests = close_digests(part) if any(record.digest_window for record in part) else {}
        for record in part:
            try:
                ready.append((record, message_for(record, batch, renderer, digests.get(record.pk))))
            except SecretPurged:
                outcomes[record.pk] = Outcome(permanent("secret_purged", "the event's secrets were purged"))
            except HandlerNotFound:  # registered in another process's memory only: retrying here cannot help
                outcomes[record.pk] = Outcome(permanent(NO_HANDLER, no_handler_detail(record.event_type)))
                logger.error("no handler in this worker (NOTIFICATIONS[\"HANDLERS\"]): tenant_id=%s record_id=%s "
                             "event_type=%s", record.tenant_id, record.pk, record.event_type)
            except DatabaseError:
                raise  # not this record's fault: the batch is retried
            except Exception as err:  # noqa: BLE001 - one record's problem (a template, a handler bug) stays its own
                outcomes[record.pk] = Outcome(permanent(RENDER_ERROR, render_error_detail(err)))
                logger.error(
                    "render failed: tenant_id=%s record_id=%s event_type=%s channel=%s error=%s",
                    record.tenant_id, record.pk, record.event_type, record.channel, type(err).__name__,
                )
        if outcomes:
            store_outcomes([record for record in part if record.pk in outcomes], outcomes, report, token)
        inbox = [pair for pair in ready if delivered_in_worker(pair[0])]
        if inbox:  # in-app records that fell due (scheduled, retried): the inbox row is their delivery
            deliver_inbox(inbox, batch, report, token, timezone.now())
            ready = [pair for pair in ready if not delivered_in_worker(pair[0])]
        return ready

    def expire_inbox_secrets(self) -> int:
        """Housekeeping, at most once a second per process (housekeeping.InboxExpiry)."""
        return self.inbox_expiry.sweep()

    def send_message(self, message: Message) -> Outcome:
        """Send one message now through its tenant's provider chain (a test send); nothing is stored."""
        self.chains.refresh([message.tenant_id])
        return self.runtime.run(self._deliver(message, self.chains.chain(message.tenant_id, message.channel)))

    async def _deliver(self, message: Message, chain: list[Sender]) -> Outcome:
        return await self.dispatch.deliver(message, chain)

    async def aclose(self) -> None:
        for sender in self.chains.all_senders():
            await sender.aclose()


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
