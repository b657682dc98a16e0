"""A bound on concurrent work inside an event loop whose acquire and release cost the same however many tasks
wait. asyncio.Semaphore (Python 3.11) scans its whole queue of waiters on every acquire; with hundreds of sends
queued behind a worker's bound that scan was about 2% of a send (bench/README.md)."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any


class Limiter:
    """`async with limiter:` admits at most `value` holders at once, first come first served. A released slot
    passes straight to the oldest waiter. Not bound to a loop until used, so it may be made anywhere."""

    __slots__ = ("_free", "_waiters")

    def __init__(self, value: int) -> None:
        if value < 1:
            raise ValueError("a limiter needs at least one slot")
        self._free = value
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def free(self) -> int:
        return self._free

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody waits for it; never waits."""
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        return False

    async def acquire(self) -> None:
        if self.try_acquire():
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()  # the slot was handed over just as this task was cancelled: pass it on
            raise

    def release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():  # a cancelled waiter stays queued until here
                waiter.set_result(None)
                return
        self._free += 1

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: Any) -> None:
        self.release()
