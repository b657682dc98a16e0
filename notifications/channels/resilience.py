"""Circuit breakers and token buckets, one of each per provider instance (in the worker's event loop)."""

from __future__ import annotations

import asyncio
import time

from notifications.channels.base import Failed, SendResult


class CircuitBreaker:
    """Opens after `threshold` transient failures in a row; after `cooldown` seconds one trial is let through
    (half-open): a success closes it, a failure opens it again."""

    def __init__(self, threshold: int = 5, cooldown: float = 30.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._trial = False

    def allows(self) -> bool:
        if self.opened_at is None:
            return True
        if time.monotonic() - self.opened_at >= self.cooldown and not self._trial:
            self._trial = True
            return True
        return False

    @property
    def retry_in(self) -> float:
        if self.opened_at is None:
            return 0.0
        return max(self.cooldown - (time.monotonic() - self.opened_at), 1.0)

    def record(self, result: SendResult) -> None:
        if isinstance(result, Failed) and result.transient:
            self.failures += 1
            if self.failures >= self.threshold or self._trial or result.code == "auth_failed":
                self.opened_at = time.monotonic()
            self._trial = False
        else:
            self.failures, self.opened_at, self._trial = 0, None, False


class TokenBucket:
    """`rate` sends per second with bursts up to `burst`; acquire() waits for a token."""

    def __init__(self, rate: float | None, burst: float | None = None) -> None:
        self.rate = rate
        self.capacity = burst or max(rate or 1.0, 1.0)
        self.tokens = self.capacity
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        if not self.rate:
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)
