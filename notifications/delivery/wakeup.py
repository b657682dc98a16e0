"""Wake the delivery workers as soon as intake commits records to send, instead of at their next poll.

On PostgreSQL intake sends `NOTIFY notifications_due` after its transaction commits, and every worker LISTENs on
a connection of its own; the poll (NOTIFICATIONS_DELIVERY_POLL_SECONDS) remains the fallback for retries coming
due and for a lost notification. In one process (SQLite, `manage.py serve`) a threading.Event does the same."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction

from notifications.db import listening_connection

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)
PG_CHANNEL = "notifications_due"
_in_process = threading.Event()


def signal_due_after_commit() -> None:
    """Call inside the transaction that creates due records: the workers wake once it commits."""
    signal_after_commit(PG_CHANNEL, _in_process)


def signal_after_commit(channel: str, in_process: threading.Event) -> None:
    """Once the current transaction commits: NOTIFY `channel` (PostgreSQL) and set `in_process` (this process)."""

    def send() -> None:
        in_process.set()
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_notify(%s, '')", [channel])

    # robust: a failed NOTIFY (the poll still finds the work) must not fail an intake batch already committed.
    transaction.on_commit(send, robust=True)


def wake_in_process() -> None:
    """Wake a worker of this process now (it is being stopped)."""
    _in_process.set()


class DueWaiter:
    """What a worker waits on between batches: a notification or the end of its poll interval. Another
    `channel` and `in_process` event make the same waiter for other work (the fan-out runner's)."""

    def __init__(self, channel: str = PG_CHANNEL, in_process: threading.Event = _in_process) -> None:
        self.channel, self.in_process = channel, in_process
        self._conn: psycopg.Connection[Any] | None = None
        self._broken_until = 0.0

    def wait(self, seconds: float) -> None:
        if connection.vendor != "postgresql" or time.monotonic() < self._broken_until:
            self.in_process.wait(seconds)
            self.in_process.clear()
            return
        try:
            conn = self._connection()
            for _ in conn.notifies(timeout=seconds, stop_after=1):
                pass
        except Exception as err:  # noqa: BLE001 - fall back to polling; reconnect after a while
            logger.warning("delivery wake-up LISTEN failed (%s); polling for 30s", type(err).__name__)
            self.close()
            self._broken_until = time.monotonic() + 30
            self.in_process.wait(seconds)

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = listening_connection(self.channel)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._conn.close()
            self._conn = None
