"""The worker's loop: claim, deliver, wait for more to fall due (woken by intake's NOTIFY), as a background
thread inside `manage.py serve` or the main loop of run_delivery_worker; and how much it claims at a time."""

from __future__ import annotations

import logging
import threading

from django.db import close_old_connections, connection
from django.db.utils import DatabaseError
from django.utils import timezone

from notifications.conf import get_setting
from notifications.delivery.claims import next_due
from notifications.delivery.engine import DeliveryEngine, default_engine
from notifications.delivery.wakeup import DueWaiter, wake_in_process

logger = logging.getLogger(__name__)


class ClaimSizer:
    """How many records the loop claims next. A claim is worked through before the next one, so what falls due
    meanwhile waits for all of it: claims stay small (two rounds of `concurrency`) for latency. Only a backlog
    (several full claims in a row; one full claim is just a burst) doubles them, up to DELIVERY_BATCH_SIZE, for
    throughput; the first claim that is not full brings them back down."""

    FULL_IN_A_ROW = 3

    def __init__(self, smallest: int, largest: int) -> None:
        self.smallest, self.largest = min(smallest, largest), largest
        self.size = self.smallest
        self._full = 0

    def update(self, claimed: int) -> int:
        if claimed < self.size:
            self.size, self._full = self.smallest, 0
        else:
            self._full += 1
            if self._full >= self.FULL_IN_A_ROW:
                self.size = min(self.size * 2, self.largest)
        return self.size


class DeliveryLoop(threading.Thread):
    """The worker as a background thread (inside `manage.py serve`) or the main loop of run_delivery_worker."""

    def __init__(self, poll_seconds: float | None = None, concurrency: int | None = None) -> None:
        super().__init__(name="delivery-worker", daemon=True)
        self.poll_seconds = poll_seconds or float(get_setting("DELIVERY_POLL_SECONDS", 1.0))
        self.linger_seconds = float(get_setting("DELIVERY_LINGER_MS", 50)) / 1000
        self.engine = DeliveryEngine(concurrency) if concurrency else default_engine()
        self.stopping = threading.Event()
        self._waiter = DueWaiter()

    def run(self) -> None:
        logger.info("delivery worker started (poll every %.1fs, concurrency %d)", self.poll_seconds,
                    self.engine.concurrency)
        failures = 0
        claims = ClaimSizer(2 * self.engine.concurrency, int(get_setting("DELIVERY_BATCH_SIZE", 1000)))
        while not self.stopping.is_set():
            close_old_connections()
            try:
                asked = claims.size
                report = self.engine.deliver_due(asked)
                claims.update(report.claimed)
                failures = 0
            except Exception as err:
                failures += 1
                wait = min(2 ** failures, 60)
                if isinstance(err, DatabaseError):
                    logger.error("delivery worker: database error %s, retrying in %ss", type(err).__name__, wait)
                else:
                    logger.exception("delivery worker: batch failed, retrying in %ss", wait)
                self.stopping.wait(wait)
                continue
            if report.claimed == 0 and not self.stopping.is_set():
                self._waiter.wait(self._idle_seconds())
            elif report.claimed < asked // 2 and self.linger_seconds:
                # Little was due: let more fall due before claiming again. A claim has a fixed cost (a dozen
                # queries, ~10 ms); claiming at once after every small claim spent the worker on that cost alone.
                self.stopping.wait(self.linger_seconds)
        self._waiter.close()
        try:
            self.engine.runtime.run(self.engine.aclose())  # SMTP QUIT, HTTP sessions closed
        except Exception:
            logger.warning("closing provider connections failed", exc_info=True)
        connection.close()
        logger.info("delivery worker stopped")

    def _idle_seconds(self) -> float:
        """How long to wait when nothing was due: until the earliest scheduled record falls due, at most the
        poll interval (intake's NOTIFY wakes the loop sooner for records due at once)."""
        try:
            due = next_due()
        except DatabaseError:
            return self.poll_seconds
        if due is None:
            return self.poll_seconds
        # At least 10 ms: a record due but locked by another worker's claim in flight must not make this spin.
        return min(max((due - timezone.now()).total_seconds(), 0.01), self.poll_seconds)

    def stop(self) -> None:
        self.stopping.set()
        wake_in_process()
