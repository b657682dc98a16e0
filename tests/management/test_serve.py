from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from notifications.testing import make_event
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_make_run_commands_serve_healthz_and_deliver(tmp_path):
    """What `make run` does, on a fresh SQLite file: migrate, seed the demo tenant, serve with the worker."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(NOTIFICATIONS_VAR_DIR=str(tmp_path), NOTIFICATIONS_DELIVERY_POLL_SECONDS="0.2")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    seeded = subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    assert "Demo tenant 'demo' created" in seeded.stdout
    port = free_port()
    server = subprocess.Popen([*manage, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                    health = json.load(response)
                break
            except OSError:
                time.sleep(0.1)
        assert health == {"status": "ok", "database": "ok", "event_types": 13}

        event = make_event("user.login.succeeded", "demo")
        published = subprocess.run([*manage, "publish_event", "auth-events", json.dumps(event)], env=env,
                                   cwd=ROOT, check=True, capture_output=True, text=True)
        assert "processed user.login.succeeded" in published.stdout
        mail_dir = tmp_path / "mail"
        text = ""
        for _ in range(100):
            text = "".join(p.read_text() for p in mail_dir.iterdir()) if mail_dir.exists() else ""
            if "-" * 79 in text:  # the file backend's end-of-message line
                break
            time.sleep(0.1)
        assert "New sign-in to your Demo Company account" in text
        assert len(list(mail_dir.iterdir())) == 1
    finally:
        server.terminate()
        server.wait(timeout=10)
