"""Running fan-outs: a chunk at a time, each in one transaction that holds the job's row lock (FOR UPDATE SKIP
LOCKED: runners in other processes take other jobs) and commits the chunk's records with the job's cursor and
counts. A crash loses at most the chunk in flight, which the next run writes again from the committed cursor:
every recipient gets their records once. Jobs take turns (the least recently advanced first), so one tenant's
million-recipient broadcast does not hold up another's list of five.

The rule of who gets what is intake's planner (audiences.fanout); here are only the mechanics: the queue, the
chunk size, the wake-ups, the failure count."""

from __future__ import annotations

import logging
import os
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, transaction
from django.db.utils import DatabaseError, InterfaceError, OperationalError
from django.utils import timezone

from notifications.audiences.fanout import audience_event, write_chunk
from notifications.audiences.models import OPEN_STATES, AudienceKind, FanOut, FanOutState
from notifications.audiences.sources import count_recipients, next_recipients
from notifications.conf import get_setting
from notifications.delivery.wakeup import DueWaiter, signal_after_commit
from notifications.tenants.models import Tenant

logger = logging.getLogger(__name__)

PG_CHANNEL = "notifications_fanout"
_in_process = threading.Event()
#: Recipients per chunk (one transaction each): NOTIFICATIONS["FANOUT_CHUNK"].
DEFAULT_CHUNK = 5000
#: A job whose chunk fails this many times in a row stops as `failed`, with the error's type.
MAX_FAILURES = 5


def signal_fanout_after_commit() -> None:
    """Call inside the transaction that records fan-out jobs: runners wake once it commits."""
    signal_after_commit(PG_CHANNEL, _in_process)


def chunk_size() -> int:
    return max(1, int(get_setting("FANOUT_CHUNK", DEFAULT_CHUNK)))


@dataclass(frozen=True, slots=True)
class Step:
    """What one run_chunk did."""

    job_id: int
    state: str
    recipients: int  # recipients written by this chunk
    written: int  # recipients written so far
    total: int | None


class _Lists:
    """The recipient lists of the jobs this process works on, read once per job (a list may hold 100,000 ids) and
    again when its length (`total`) changed: an erasure takes the person out of the list and lowers the total
    (history.erasure), and a list read before must not bring them back."""

    def __init__(self) -> None:
        # By the job's event (its id could come back after a rollback) and its list's length.
        self._lists: dict[tuple[Any, int | None], list[str]] = {}

    def of(self, job: FanOut) -> list[str]:
        if job.audience != AudienceKind.RECIPIENTS:
            return []
        key = (job.event_id, job.total)
        if key not in self._lists:
            if len(self._lists) > 16:
                self._lists.clear()
            self._lists[key] = list(FanOut.objects.filter(pk=job.pk).values_list("recipients", flat=True)[0])
        return self._lists[key]


_lists = _Lists()


def run_chunk(job_id: int | None = None, size: int | None = None) -> Step | None:
    """Write the next chunk of the least recently advanced open job (or of `job_id`); None when there is none
    free (every open job is another runner's at the moment, or none is open)."""
    picked: list[int] = []
    try:
        return _run_chunk(job_id, size or chunk_size(), picked)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the caller waits and tries again
    except Exception as err:
        if picked:
            _count_failure(picked[0], err)
        raise


def _run_chunk(job_id: int | None, size: int, picked: list[int]) -> Step | None:
    with transaction.atomic():
        query = FanOut.objects.filter(state__in=OPEN_STATES).defer("recipients").select_for_update(skip_locked=True)
        job = (query.filter(pk=job_id) if job_id is not None else query.order_by("updated_at")).first()
        if job is None:
            return None
        picked.append(job.pk)
        now = timezone.now()
        if job.total is None:
            job.total = count_recipients(job)
        recipients = next_recipients(job, _lists.of(job), size)
        if recipients:
            tenant = Tenant.objects.get(pk=job.tenant_id)
            chunk = write_chunk(job, audience_event(job), recipients, tenant, now)
            job.cursor = recipients[-1].user_id
            job.written += chunk.recipients
            job.records += chunk.records
            job.skipped = dict(Counter(job.skipped) + chunk.skipped)
        job.started_at = job.started_at or now
        job.failures, job.error = 0, ""
        if len(recipients) < size:
            job.state, job.finished_at = FanOutState.DONE, now
        else:
            job.state = FanOutState.RUNNING
        job.save(update_fields=["total", "cursor", "written", "records", "skipped", "started_at", "failures",
                                "error", "state", "finished_at", "updated_at"])
    return Step(job.pk, job.state, len(recipients), job.written, job.total)


def _count_failure(job_id: int, err: BaseException) -> None:
    """The chunk rolled back; the job counts the failure, and stops once it failed MAX_FAILURES in a row."""
    with transaction.atomic():
        job = FanOut.objects.select_for_update().filter(pk=job_id, state__in=OPEN_STATES).first()
        if job is None:
            return
        job.failures += 1
        job.error = f"chunk after {job.cursor or 'the start'!r} failed: {type(err).__name__}"[:500]
        if job.failures >= MAX_FAILURES:
            job.state, job.finished_at = FanOutState.FAILED, timezone.now()
        job.save(update_fields=["failures", "error", "state", "finished_at", "updated_at"])
    logger.error("fan-out %s: %s (%d in a row)", job_id, job.error, job.failures)


def open_jobs() -> list[int]:
    return list(FanOut.objects.filter(state__in=OPEN_STATES).order_by("updated_at").values_list("id", flat=True))


def run_until_idle(size: int | None = None, progress: Any = None, job_ids: list[int] | None = None) -> int:
    """Run every open fan-out (or those of `job_ids`) to its end in this thread (commands, tests); returns the
    chunks written. `progress(step)` is called after each chunk. A job that keeps failing ends `failed`; one
    another runner holds is left to it."""
    chunks = 0
    for job_id in open_jobs() if job_ids is None else job_ids:
        failed = 0
        while True:
            try:
                step = run_chunk(job_id, size)
            except (OperationalError, InterfaceError):
                raise
            except Exception:
                logger.exception("fan-out %s: chunk failed", job_id)
                failed += 1
                if failed > MAX_FAILURES:  # counted on the job, which ends `failed`; else not its own failure
                    break
                continue
            if step is None:
                break
            failed = 0
            chunks += 1
            if progress is not None:
                progress(step)
            if step.state != FanOutState.RUNNING:
                break
    return chunks


class FanOutRunner(threading.Thread):
    """Runs fan-outs in the background beside the delivery worker (`manage.py serve`, run_delivery_worker):
    chunk after chunk while any job is open, woken by intake's NOTIFY (or its poll) when none is."""

    def __init__(self, poll_seconds: float | None = None, parent: int | None = None) -> None:
        """`parent`: the pid of the process that started this one (`fanout runner --parent`); the runner stops
        when it is gone, killed or not, instead of running on as an orphan."""
        super().__init__(name="fanout-runner", daemon=True)
        self.poll_seconds = poll_seconds or float(get_setting("DELIVERY_POLL_SECONDS", 1.0))
        self.stopping = threading.Event()
        self.parent = parent
        self._waiter = DueWaiter(PG_CHANNEL, _in_process)

    def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            if self.parent is not None and os.getppid() != self.parent:
                logger.warning("fan-out runner: its parent process %s is gone; stopping", self.parent)
                break
            close_old_connections()
            try:
                step = run_chunk()
                failures = 0
            except Exception as err:  # noqa: BLE001 - the runner outlives any one failure; the job counts it
                failures += 1
                wait = min(2 ** failures, 60)
                level = logging.ERROR if isinstance(err, DatabaseError) else logging.WARNING
                logger.log(level, "fan-out runner: %s, retrying in %ss", type(err).__name__, wait)
                self.stopping.wait(wait)
                continue
            if step is None and not self.stopping.is_set():  # nothing open, or all open jobs are others'
                self._waiter.wait(self.poll_seconds)
        self._waiter.close()

    def stop(self) -> None:
        """Stops after the chunk in flight (or within a poll while it waits: its connection is closed by run()
        itself, not under its wait)."""
        self.stopping.set()
        _in_process.set()
