from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = subprocess.run(["bash", str(ROOT / "scripts" / "chromium.sh")], capture_output=True, text=True)
    if found.returncode != 0:
        reason = f"needs Debian's chromium: {found.stderr.strip()}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found.stdout.strip()


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Server:
    def __init__(self, shared_db: Any, tmp_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**shared_db.env, "NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.2", "NOTIFICATIONS_INBOX_DEMO": "true",
               "NOTIFICATIONS_DEMO_TENANT_ID": "demo"}
        self.process = subprocess.Popen([sys.executable, str(ROOT / "manage.py"), "serve", "--port", str(self.port)],
                                        env=env, cwd=ROOT, stdout=open(tmp_path / "serve.log", "wb"),  # noqa: SIM115 - the server's life
                                        stderr=subprocess.STDOUT)
        for _ in range(150):
            try:
                httpx.get(f"{self.url}/healthz", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


@pytest.fixture
def server(shared_db: Any, tmp_path: Path) -> Iterator[Server]:
    running = Server(shared_db, tmp_path)
    yield running
    running.stop()
