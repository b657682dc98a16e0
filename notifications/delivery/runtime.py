"""One asyncio event loop per process, in a daemon thread, where every provider call happens. Provider
connection pools and access tokens belong to it and live across batches."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from notifications.utils.lazy import ProcessSingleton

T = TypeVar("T")


class AsyncRuntime:
    def __init__(self) -> None:
        self.loop = new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="delivery-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """asyncio's own loop. uvloop was tried here (its loop costs about half of asyncio's) and crashed the
    process (a segmentation fault in the loop thread during a provider test on PostgreSQL), so it is not used
    while Django's threads share the process with the loop."""
    return asyncio.new_event_loop()


_runtime = ProcessSingleton(AsyncRuntime)


def get_runtime() -> AsyncRuntime:
    return _runtime.get()
