"""A per-key request budget over fixed windows, kept in Django's cache: `hit(key)` admits up to `limit` calls per
window and otherwise says how many seconds until the next window. With the default local-memory cache the
budget is per process; point CACHES at a shared cache (Redis, Memcached) to make it one budget per key."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import NoReturn

from django.core.cache import caches
from django.http import HttpRequest

from notifications.conf import get_setting

logger = logging.getLogger(__name__)


class WindowThrottle:
    def __init__(self, name: str, limit: Callable[[], int], window_seconds: int = 60,
                 clock: Callable[[], float] = time.time, cache_alias: str = "default") -> None:
        self.name = name
        self._limit = limit
        self.window_seconds = window_seconds
        self.clock = clock  # wall time, shared by processes that share the cache; tests replace it
        self._cache_alias = cache_alias

    def hit(self, key: str) -> int | None:
        """Count one call for `key`: None if admitted, else the whole seconds until the window ends."""
        now = self.clock()
        window = int(now // self.window_seconds)
        cache_key = f"throttle:{self.name}:{key}:{window}"
        cache = caches[self._cache_alias]
        cache.add(cache_key, 0, timeout=self.window_seconds * 2)
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add and incr
            cache.set(cache_key, 1, timeout=self.window_seconds * 2)
            count = 1
        if count <= self._limit():
            return None
        logger.info("%s: %s over its limit of %d per %d s", self.name, key, self._limit(), self.window_seconds)
        return max(1, math.ceil((window + 1) * self.window_seconds - now))


class TooManyRequests(Exception):
    """Over a request budget: the API answers 429 with Retry-After, in its error shape (api.app's handler)."""

    def __init__(self, retry_after: int, what: str) -> None:
        super().__init__(f"too many {what}; retry in {retry_after} s")
        self.retry_after = retry_after


def too_many(request: HttpRequest, retry_after: int, what: str) -> NoReturn:
    """Raises TooManyRequests: 429 with Retry-After. (The handler is in api.app, which this module cannot import:
    the routers that use it are imported by api.app.)"""
    raise TooManyRequests(retry_after, what)


def _test_sends_per_minute() -> int:
    from notifications.tenants.limits import TEST_SENDS_PER_MINUTE

    return int(get_setting("TEST_SENDS_PER_MINUTE", TEST_SENDS_PER_MINUTE))


# Template test sends, per tenant: NOTIFICATIONS["TEST_SENDS_PER_MINUTE"] (default 10).
test_sends = WindowThrottle("test_sends", _test_sends_per_minute, window_seconds=60)
