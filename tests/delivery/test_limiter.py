"""The worker's concurrency bound: at most N holders, first come first served, and a cancelled waiter neither
keeps nor loses a slot."""

from __future__ import annotations

import asyncio

import pytest

from notifications.utils.limiter import Limiter


def test_at_most_value_holders_and_waiters_run_in_arrival_order():
    async def scenario() -> tuple[int, list[int]]:
        limiter, holding, peak, order = Limiter(3), 0, 0, []

        async def one(n: int) -> None:
            nonlocal holding, peak
            async with limiter:
                order.append(n)
                holding += 1
                peak = max(peak, holding)
                await asyncio.sleep(0.001)
                holding -= 1

        await asyncio.gather(*(one(n) for n in range(50)))
        assert limiter.free == 3 and limiter.waiting == 0
        return peak, order

    peak, order = asyncio.run(scenario())
    assert peak == 3
    assert order == list(range(50))


def test_a_cancelled_waiter_gives_its_place_and_its_slot_on():
    async def scenario() -> None:
        limiter = Limiter(1)
        await limiter.acquire()
        first = asyncio.ensure_future(limiter.acquire())
        second = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)
        assert limiter.waiting == 2
        first.cancel()  # cancelled while queued: skipped by the next release
        await asyncio.sleep(0)
        limiter.release()
        await asyncio.wait_for(second, 1)
        assert limiter.free == 0
        # A waiter handed the slot and cancelled before it ran passes the slot on instead of keeping it.
        third = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)
        limiter.release()  # hands the slot to `third`...
        third.cancel()  # ...which is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await third
        assert limiter.free == 1

    asyncio.run(scenario())


def test_try_acquire_takes_only_a_free_slot_nobody_waits_for():
    async def scenario() -> None:
        limiter = Limiter(1)
        assert limiter.try_acquire() and not limiter.try_acquire()
        waiter = asyncio.ensure_future(limiter.acquire())
        await asyncio.sleep(0)
        limiter.release()  # handed to the waiter, not left free
        assert not limiter.try_acquire()
        await waiter
        limiter.release()
        assert limiter.try_acquire()

    asyncio.run(scenario())


def test_a_limiter_needs_a_slot():
    with pytest.raises(ValueError):
        Limiter(0)
