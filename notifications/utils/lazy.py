"""One instance per process, made on first use (an event loop thread, a Kafka producer, a delivery engine)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class ProcessSingleton(Generic[T]):
    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._instance: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        with self._lock:
            if self._instance is None:
                self._instance = self._factory()
            return self._instance

    def reset(self, close: Callable[[T], object] | None = None) -> None:
        """Forget the instance (closing it first if asked); the next get() makes a new one."""
        with self._lock:
            instance, self._instance = self._instance, None
        if instance is not None and close is not None:
            close(instance)
