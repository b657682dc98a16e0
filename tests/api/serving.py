"""`manage.py serve` as a real subprocess on a free loopback port, against a database shared with the test."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers import free_port
from tests.shared import SharedDatabase

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def serving(db: SharedDatabase, log: Path, *arguments: str, **env: str) -> Iterator[tuple[str, subprocess.Popen]]:
    """The server's base URL and process, once /healthz answers; stopped (SIGTERM) on exit."""
    port = free_port()
    with open(log, "ab") as out:
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(port), *arguments],
            env={**db.env, "LOG_LEVEL": "WARNING", **env}, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise AssertionError(f"serve exited with {server.returncode}: {log.read_text()[-3000:]}")
            try:
                status = httpx.get(f"{base}/healthz", timeout=2).status_code
                assert status in (200, 503), f"/healthz answered {status}: {log.read_text()[-3000:]}"
                if status == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer /healthz: {log.read_text()[-3000:]}")
            time.sleep(0.1)  # polling for readiness, not waiting for time to pass
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def api_key(db: SharedDatabase, tenant_id: str) -> str:
    return db.run_python(
        f"from notifications.api.models import ApiKey; print(ApiKey.issue({tenant_id!r}, 'tests')[1])").strip()
