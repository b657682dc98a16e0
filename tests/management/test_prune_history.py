"""manage.py prune_history: what would go (--dry-run), then deleting it; per tenant."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from notifications.delivery.models import NotificationRecord
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)


def _run(*args: str) -> str:
    out = io.StringIO()
    call_command("prune_history", *args, stdout=out)
    return out.getvalue()


def test_dry_run_then_prune(tenant, deliver):
    with time_machine.travel(JAN, tick=False):
        event_registry.process_events([make_event("user.login.succeeded"), make_event("task.assigned")])
        deliver()
    records = NotificationRecord.objects.count()
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        assert _run("--dry-run") == f"would delete: records {records:,}\n"
        assert NotificationRecord.objects.count() == records
        assert _run("--tenant-id", "globex") == "deleted: nothing\n"
        assert _run() == f"deleted: records {records:,}, events 2, event_keys 2\n"
    assert not NotificationRecord.objects.exists()
