"""`manage.py fanout list | status ID | run [--id ID] [--chunk N] | runner`: audience events' fan-outs
(notifications/audiences). `run` writes open fan-outs' records here, chunk by chunk, with a progress bar on stderr,
then prints each job's final status; `runner` runs them as they arrive until stopped (run_delivery_worker starts
one beside itself; `serve` runs one as a thread)."""

from __future__ import annotations

import logging
import signal
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.audiences.models import OPEN_STATES
from notifications.audiences.progress import fanout_status, fanouts, recent_fanouts
from notifications.audiences.runner import FanOutRunner, Step, chunk_size, run_until_idle
from notifications.utils.progress import ProgressBar

logger = logging.getLogger(__name__)


def _count(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


def _share(row: dict[str, Any]) -> str:
    return "?" if row["percent"] is None else f"{row['percent']:g}%"


def _audience(row: dict[str, Any]) -> str:
    return f"topic {row['topic_key']}" if row["audience"] == "topic" else row["audience"]


def _skipped(skipped: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count:,}" for reason, count in sorted(skipped.items())) or "none"


def describe(status: dict[str, Any]) -> list[str]:
    """fanout_status as readable lines."""
    lines = [
        f"fan-out {status['id']}: {status['state']} ({status['event_type']} to {_audience(status)}, tenant "
        f"{status['tenant_id']}, event {status['event_id']})",
        f"  recipients: {_count(status['written'])} of {_count(status['total'])} written ({_share(status)})",
        f"  records:    {status['records']:,} written; skipped by reason: {_skipped(status['skipped'])}",
    ]
    if "sent" in status:
        lines.append(f"  outcome:    {status['sent']:,} sent, {status['failed']:,} failed, "
                     f"{status['cancelled']:,} cancelled, {status['waiting']:,} waiting")
    times = [f"{name} {status[f'{name}_at']:%Y-%m-%d %H:%M:%S}" for name in ("created", "started", "finished")
             if status[f"{name}_at"] is not None]
    lines.append(f"  times:      {', '.join(times)} (UTC)")
    if status["error"]:
        lines.append(f"  error:      {status['error']}")
    return lines


class Command(BaseCommand):
    help = "List fan-outs, show one's status, or run the open ones here with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list", help="The newest fan-outs, newest first")
        listing.add_argument("--tenant-id")
        listing.add_argument("--limit", type=int, default=20)
        status = sub.add_parser("status", help="One fan-out's progress and its records' outcome")
        status.add_argument("id", type=int)
        run = sub.add_parser("run", help="Run open fan-outs to their end (a progress bar on stderr)")
        run.add_argument("--id", type=int, help="Only this fan-out")
        run.add_argument("--chunk", type=int, help="Recipients per chunk (default: NOTIFICATIONS['FANOUT_CHUNK'])")
        runner = sub.add_parser("runner", help="Run fan-outs as they arrive, until stopped (SIGTERM): the process "
                                               "run_delivery_worker starts beside itself")
        runner.add_argument("--parent", type=int, help="Stop when the process of this pid is gone")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list(options["tenant_id"], options["limit"])
        elif options["action"] == "runner":
            self._runner(options["parent"])
        elif options["action"] == "status":
            self.stdout.write("\n".join(describe(fanout_status(self._job(options["id"])))))
        else:
            if options["chunk"] is not None and options["chunk"] < 1:
                raise CommandError("--chunk must be at least 1")
            self._run(options["id"], options["chunk"] or chunk_size())

    def _runner(self, parent: int | None) -> None:
        runner = FanOutRunner(parent=parent)
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: runner.stop())
        runner.run()

    def _job(self, job_id: int) -> Any:
        job = fanouts().filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"no fan-out {job_id}")
        return job

    def _list(self, tenant_id: str | None, limit: int) -> None:
        rows = recent_fanouts(tenant_id, max(1, limit))
        if not rows:
            self.stdout.write("no fan-outs")
        for row in rows:
            self.stdout.write(
                f"{row['id']}\t{row['created_at']:%Y-%m-%d %H:%M:%S}\t{row['tenant_id']}\t{row['event_type']}\t"
                f"{_audience(row)}\t{row['state']}\t{_count(row['written'])}/{_count(row['total'])} "
                f"({_share(row)})\t{row['records']:,} records")

    def _run(self, job_id: int | None, size: int) -> None:
        if job_id is not None and (job := self._job(job_id)).state not in OPEN_STATES:
            self.stdout.write(f"fan-out {job_id} is not open (nothing to run):")
            self.stdout.write("\n".join(describe(fanout_status(job))))
            return
        tracker = _Tracker(self)
        try:
            run_until_idle(size, progress=tracker.step, job_ids=None if job_id is None else [job_id])
        finally:
            tracker.end()
        if not tracker.jobs:
            self.stdout.write("no open fan-outs" if job_id is None else
                              f"fan-out {job_id} is being run by another process")
        for ran in tracker.jobs:
            self.stdout.write("\n".join(describe(fanout_status(self._job(ran)))))


class _Tracker:
    """One bar per job, on the command's stderr: a job's first chunk starts its bar, the next job's ends it."""

    def __init__(self, command: BaseCommand) -> None:
        self.command = command
        self.tty = command.stderr.isatty()
        self.jobs: list[int] = []
        self.bar: ProgressBar | None = None
        self.last = time.monotonic()  # when the chunk before this one ended: the next job's start

    def write(self, text: str) -> None:
        self.command.stderr.write(text, style_func=lambda same: same, ending="")
        self.command.stderr.flush()

    def step(self, step: Step) -> None:
        if not self.jobs or self.jobs[-1] != step.job_id:
            self.end()
            self.jobs.append(step.job_id)
            self.bar = ProgressBar(self.write, tty=self.tty, total=step.total, start=step.written - step.recipients,
                                   prefix=f"fan-out {step.job_id} ", started=self.last)
        assert self.bar is not None  # noqa: S101 - made above
        self.bar.update(step.written, step.total)
        self.last = time.monotonic()

    def end(self) -> None:
        if self.bar is not None:
            self.bar.finish()
            self.bar = None
