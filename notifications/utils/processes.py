"""Several copies of a long-running management command, for the cores one Python process cannot use.

`start_kafka_consumer --processes N` runs N consumers in one group (Kafka spreads the partitions among them);
`run_delivery_worker --processes N` runs N workers (claims never overlap). The parent only supervises: it
forwards SIGTERM/SIGINT to every child, and if one child dies on its own it stops the others and exits with that
child's code, so the process manager above restarts the whole set.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

GRACE_SECONDS = 60.0  # how long stopping children may take before they are killed
# The system checks a worker or consumer process runs at start: all but the URL checks (which load the HTTP API).
WORKER_CHECKS = ["models", "compatibility", "caches", "signals", "templates", "translation", "staticfiles",
                 "security", "files", "async_support", "admin"]


def run_copies(command: str, arguments: Callable[[int], list[str]], count: int) -> int:
    """Run `count` copies of `manage.py command *arguments(i)`; returns the exit code for the parent."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    children: list[subprocess.Popen] = []
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
