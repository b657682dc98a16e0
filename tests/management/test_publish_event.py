from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from notifications.models import RejectedEvent
from notifications.testing import make_event


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
