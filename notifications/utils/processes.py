"""Several copies of a long-running management command, for the cores one Python process cannot use.

`start_kafka_consumer --processes N` runs N consumers in one group (Kafka spreads the partitions among them);
`run_delivery_worker --processes N` runs N workers (claims never overlap). The parent only supervises: it
forwards SIGTERM/SIGINT to every child, and if one child dies on its own it stops the others and exits with that
child's code, so the process manager above restarts the whole set.
"""

from __future__ import annotations

import gc
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

GRACE_SECONDS = 60.0  # how long stopping children may take before they are killed
# The system checks a worker or consumer process runs at start: all but the URL checks (which load the HTTP API).
WORKER_CHECKS = ["models", "compatibility", "caches", "signals", "templates", "translation", "staticfiles",
                 "security", "files", "async_support", "admin"]


class _Forked:
    """A forked child, with the part of Popen's interface the supervisor uses."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by a poll that a signal handler interrupted
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def settle_heap() -> None:
    """Before a long-running loop: what start-up loaded (Django, the service's modules, compiled templates)
    lives as long as the process, so it is collected once and moved out of the collector's view (gc.freeze).
    A full collection then scans only what the work allocates: in the consumer under the end-to-end benchmark
    full collections had taken up to 105 ms, each one a stall of the batch in hand."""
    gc.collect()
    gc.freeze()


def _fork(command: str, arguments: list[str], children: list[Any]) -> None:
    """The command in a forked copy of this process: Django and the service's modules are loaded already, so the
    copy starts in milliseconds instead of the second a new interpreter takes."""
    from django.db import connections

    connections.close_all()  # a connection must never be shared across processes
    # Signals wait while forking: the copy must not run the supervisor's handler, and the supervisor must know
    # the copy before its handler can run.
    stopping = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stopping)
    try:
        pid = os.fork()
    except BaseException:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
        raise
    if pid:
        children.append(_Forked(pid))
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
        return
    code = 1
    try:
        for signum in stopping:
            signal.signal(signum, signal.SIG_DFL)  # the supervisor's handlers are not the copy's
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stopping)
        random.seed()
        from django.core.management import call_command

        call_command(command, *arguments)
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported, and the exit code tells the supervisor
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def start_command(command: str, *arguments: str) -> subprocess.Popen[bytes]:
    """`manage.py command *arguments` as a child process (a fresh interpreter, this one's settings and path)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    return subprocess.Popen([sys.executable, "-m", "django", command, *arguments], env=env)


def run_copies(command: str, arguments: Callable[[int], list[str]], count: int) -> int:
    """Run `count` copies of `manage.py command *arguments(i)`; returns the exit code for the parent. Copies are
    forked when this process has no other thread (a management command's supervisor), else started afresh."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    children: list[Any] = []  # subprocess.Popen or _Forked
    stopping_since: float | None = None

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping_since
        if stopping_since is None:
            stopping_since = time.monotonic()
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    # Handlers first: a SIGTERM arriving while the children start must reach them too.
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(count):
            if stopping_since is not None:
                break
            if threading.active_count() == 1:
                _fork(command, arguments(index), children)
            else:  # forking a process with threads can copy a held lock: start a fresh interpreter instead
                children.append(subprocess.Popen([sys.executable, "-m", "django", command, *arguments(index)],
                                                 env=env))
        code = 0
        while any(child.poll() is None for child in children):
            failed = [child for child in children if child.returncode not in (None, 0)]
            if failed and stopping_since is None:
                code = failed[0].returncode
                stop(signal.SIGTERM, None)
            if stopping_since is not None and time.monotonic() - stopping_since > GRACE_SECONDS:
                for child in children:
                    if child.poll() is None:
                        child.kill()  # it did not stop in time: no orphan keeps consuming or sending
            time.sleep(0.2)
        if stopping_since is None:
            code = code or next((child.returncode for child in children if child.returncode), 0)
        return code
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
