"""Sending rendered messages: each tenant's provider chain tried in order behind each provider's guard (circuit
breaker, rate bucket, concurrency bound), on the process's event loop; and the thread-to-loop pipeline that
keeps the loop sending one group while the worker's thread renders the next and stores the last."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from django.utils import timezone

from notifications.channels.base import Failed, Message, Sender, SendResult, Sent, permanent, transient
from notifications.channels.registry import ProviderChains
from notifications.channels.resilience import CircuitBreaker, TokenBucket
from notifications.channels.spec import CHANNEL_SPECS, Target
from notifications.enums import Channel
from notifications.observability import metrics
from notifications.rules.outcome import ROUTE_PROVIDER, read_route
from notifications.utils.limiter import Limiter

if TYPE_CHECKING:
    from notifications.delivery.batch import Record

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class Outcome:
    result: SendResult
    sender: str = ""
    attempts: list[tuple[Any, ...]] = field(default_factory=list)  # ATTEMPT_FIELDS values, one tuple per provider call


class Guard:
    """What stands between the engine and one provider instance: its circuit breaker, rate bucket and
    concurrency bound, made once (building them per send was 3% of a send)."""

    __slots__ = ("breaker", "bucket", "limit")

    def __init__(self, sender: Sender) -> None:
        rate = sender.options.get("rate_per_second", sender.rate_per_second)
        self.breaker = CircuitBreaker()
        self.bucket = TokenBucket(float(rate) if rate else None)
        self.limit = Limiter(max(int(sender.options.get("max_concurrency", sender.max_concurrency)), 1))


def attempt_row(message: Message, sender: Sender, started: datetime, elapsed: float,
                result: SendResult) -> tuple[Any, ...]:
    """One DeliveryAttempt row, as values in store.ATTEMPT_FIELDS order."""
    if isinstance(result, Sent):
        return (message.record_id, message.tenant_id, sender.label, started, int(elapsed * 1000), "sent", "", "",
                result.provider_message_id[:255])
    return (message.record_id, message.tenant_id, sender.label, started, int(elapsed * 1000), result.kind.value,
            result.code[:64], result.detail[:500], "")


class Dispatcher:
    """The provider chains of one worker process and a guard per provider instance."""

    def __init__(self) -> None:
        self.chains = ProviderChains()
        self._guards: dict[Sender, Guard] = {}
        self._send_seconds: dict[tuple[Channel, Sender], Any] = {}
        self._unserved: set[tuple[str, str]] = set()  # (tenant, channel) chains found empty, logged once

    def forget(self, sender: Sender) -> None:
        """A provider instance replaced (its tenant's configuration changed): its guard goes with it."""
        self._guards.pop(sender, None)

    async def send_all(self, ready: Sequence[tuple[Record, Message]], overall: Limiter) -> list[Outcome]:
        async def one(record: Record, message: Message) -> Outcome:
            async with overall:
                chain = self.chains.chain(record.tenant_id, message.channel)
                if record.route:  # a tenant's rule names the provider to try first (notifications/rules)
                    chain = routed(chain, read_route(record.route).get(ROUTE_PROVIDER))
                return await self.deliver(message, chain)

        return list(await asyncio.gather(*(one(record, message) for record, message in ready)))

    async def deliver(self, message: Message, chain: list[Sender]) -> Outcome:
        """Try the chain in order: a transient failure or an open circuit moves on to the next provider."""
        # No provider at all is a configuration gap: transient, so records retry (and fail as `no_provider`
        # once their attempts are used up) while someone configures one; said once per tenant and channel.
        outcome = Outcome(transient("no_provider", f"no provider configured for {message.channel.value}"))
        if not chain and (message.tenant_id, message.channel) not in self._unserved:
            self._unserved.add((message.tenant_id, message.channel))
            logger.error("no provider configured: tenant_id=%s channel=%s: its records fail once their attempts "
                         "are used up", message.tenant_id, message.channel.value)
        candidates = [sender for sender in chain if sender.supports(message)]
        skipped_open: list[CircuitBreaker] = []
        for sender in candidates:
            guard = self._guards.get(sender)
            if guard is None:
                guard = self._guards[sender] = Guard(sender)
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
                except Exception as err:
                    logger.exception("provider %s raised on record %s", sender.label, message.record_id)
                    result = transient("provider_error", type(err).__name__)
            elapsed = time.perf_counter() - clock
            histogram = self._send_seconds.get((message.channel, sender))
            if histogram is None:
                histogram = metrics.SEND_SECONDS.labels(message.channel.value, sender.name)
                self._send_seconds[(message.channel, sender)] = histogram
            histogram.observe(elapsed)
            breaker.record(result)
            outcome.attempts.append(attempt_row(message, sender, started, elapsed, result))
            outcome.result, outcome.sender = result, sender.label
            if result.ok or (isinstance(result, Failed) and not result.transient):
                return outcome
        if not outcome.attempts and skipped_open:
            wait = min(b.retry_in for b in skipped_open)
            outcome.result = transient("circuit_open", "every provider's circuit is open", retry_after=wait)
        elif not candidates and CHANNEL_SPECS[message.channel].target is Target.DEVICE:
            outcome.result = permanent("no_provider", f"no provider for platform {message.target.get('platform')}")
        return outcome


def routed(chain: list[Sender], label: str | None) -> list[Sender]:
    """The chain with the provider a rule names (by label, or provider name) first; the others stay behind it
    as its fall-backs. A name the chain lacks (the provider was removed since) leaves the chain as it is."""
    if not label:
        return chain
    first = [sender for sender in chain if sender.label == label] or [
        sender for sender in chain if sender.name == label]
    return first + [sender for sender in chain if sender not in first] if first else chain


PIPELINE_WINDOW = 3  # groups rendered ahead of the one whose sends are awaited


def pipelined(groups: deque[list[R]], take: Callable[[], list[T]],
              send: Callable[[list[T]], Coroutine[Any, Any, list[Outcome]]],
              store: Callable[[list[T], list[Outcome]], None], loop: asyncio.AbstractEventLoop) -> None:
    """Work `groups` through a short pipeline: while groups are being sent on the event loop, this thread
    prepares the next (`take`, which pops it off `groups`) and stores the outcomes of the previous one
    (`store`, group by group, so a worker killed mid-batch re-sends at most the groups in flight)."""
    inflight: deque[tuple[list[T], Future[Any] | None]] = deque()

    def submit() -> None:
        ready = take()
        future = asyncio.run_coroutine_threadsafe(send(ready), loop) if ready else None
        inflight.append((ready, future))

    try:
        while groups or inflight:
            while groups and len(inflight) < PIPELINE_WINDOW:
                submit()
            ready, future = inflight[0]
            if groups:
                submit()
            inflight.popleft()
            if future is not None:
                store(ready, future.result())
    finally:
        # A failure here (the database went away) must not leave sends running behind the caller's back.
        for _, future in inflight:
            if future is not None:
                with contextlib.suppress(BaseException):  # the first error is the one raised
                    future.result()
