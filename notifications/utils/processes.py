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


def run_copies(command: str, arguments: Callable[[int], list[str]], count: int) -> int:
    """Run `count` copies of `manage.py command *arguments(i)`; returns the exit code for the parent."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
    children = [subprocess.Popen([sys.executable, "-m", "django", command, *arguments(index)], env=env)
                for index in range(count)]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        code = 0
        while any(child.poll() is None for child in children):
            failed = [child for child in children if child.returncode not in (None, 0)]
            if failed and not stopping:
                code = failed[0].returncode
                stop(signal.SIGTERM, None)
            time.sleep(0.2)
        if not stopping:
            code = code or next((child.returncode for child in children if child.returncode), 0)
        return code
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
