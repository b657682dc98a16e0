"""publish_event (async and sync), the management commands, and the running service."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.core.management import call_command

from notifications.enums import Outcome
from notifications.models import Event, NotificationRecord, RejectedEvent
from notifications.testing import make_event
from notifications.utils.kafka_producer import publish_event, publish_event_sync

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db(transaction=True)
def test_guides_publish_event_feeds_local_intake_without_kafka(tenant):
    tenant_id = tenant.id

    async def auth_service() -> None:
        await publish_event('billing-events', {
            'event_type': 'invoice.payment.failed',
            'tenant_id': tenant_id,
            'timestamp': datetime.utcnow().isoformat(),
            'payload': {
                'user_id': str(42),
                'invoice_id': 1001,
                'amount': float("19.99"),
                'currency': 'EUR',
                'failure_reason': 'insufficient_funds',
                'next_retry_date': datetime(2026, 12, 1).isoformat(),
                'payment_method': 'credit_card'
            }
        })
        # The guide's caller is async: Django ran intake in asgiref's worker thread; close its connection.
        await sync_to_async(connections.close_all)()

    asyncio.run(auth_service())

    event = Event.objects.get()
    assert (event.event_type, event.user_id, event.source) == ("invoice.payment.failed", "42", "billing-events")
    assert NotificationRecord.objects.filter(event=event).count() == 3


@pytest.mark.django_db
def test_publish_event_sync_serialises_datetimes(tenant):
    event = make_event("task.assigned")
    event["timestamp"] = datetime(2026, 11, 23, 9, 30)
    event["payload"]["due_date"] = datetime(2026, 11, 30, 17, 0)

    result = publish_event_sync("hr-events", event)

    assert result is not None and result.outcome == Outcome.PROCESSED
    stored = Event.objects.get()
    assert stored.occurred_at.isoformat() == "2026-11-23T09:30:00+00:00"
    assert stored.payload["due_date"] == "2026-11-30T17:00:00"  # naive stays naive; rendering reads UTC


@pytest.mark.django_db
def test_publish_event_command_and_rejected_events_commands(tenant, capsys):
    call_command("publish_event", "auth-events", json.dumps(make_event("user.login.succeeded")))
    call_command("publish_event", "auth-events", json.dumps({**make_event("task.assigned"), "event_type": "nope"}))
    out = capsys.readouterr().out
    assert "processed user.login.succeeded" in out and "rejected (unsupported_event_type)" in out

    call_command("rejected_events", "list")
    rejected = RejectedEvent.objects.get()
    assert f"{rejected.pk}\t" in capsys.readouterr().out
    call_command("rejected_events", "reprocess", str(rejected.pk))
    assert "rejected (unsupported_event_type)" in capsys.readouterr().out
    rejected.refresh_from_db()
    assert rejected.reprocessed_at is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_make_run_commands_serve_healthz_and_deliver(tmp_path):
    """What `make run` does, on a fresh SQLite file: migrate, seed the demo tenant, serve with the worker."""
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(NOTIFICATIONS_VAR_DIR=str(tmp_path), NOTIFICATIONS_DELIVERY_POLL_SECONDS="0.2")
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    seeded = subprocess.run([*manage, "seed_demo"], env=env, check=True, cwd=ROOT, capture_output=True, text=True)
    assert "Demo tenant 'demo' created" in seeded.stdout
    port = _free_port()
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
        assert health == {"status": "ok", "database": "ok", "event_types": 11}

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
