"""manage.py replay: a dry run with a drafts file prints the summary; bad drafts name their entry."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def _run(*args: str) -> dict:
    out = io.StringIO()
    call_command("replay", "--tenant-id", "acme", *args, stdout=out)
    return json.loads(out.getvalue())


def test_dry_run_with_drafts_then_live(tenant, tmp_path, deliver):
    event_registry.process_event(make_event("task.assigned"))
    deliver()
    drafts = tmp_path / "drafts.json"
    drafts.write_text(json.dumps([{"name": "task_assigned_email", "channel": "email",
                                   "content": {"subject": "Drafted", "body": "b"}}]))
    summary = _run("--since", "2000-01-01T00:00:00Z", "--templates", str(drafts))
    assert summary["mode"] == "dry_run" and any(s.get("fields", {}).get("subject") == "Drafted"
                                                for s in summary["samples"])
    live = _run("--since", "2000-01-01T00:00:00Z", "--live", "--key", "k1")
    assert [r["outcome"] for r in live["replayed"]] == ["processed"] and Event.objects.count() == 2


def test_bad_drafts_and_ranges_are_refused(tenant, tmp_path):
    drafts = tmp_path / "drafts.json"
    drafts.write_text(json.dumps([{"name": "nope_email", "channel": "email", "content": {}}]))
    with pytest.raises(CommandError, match=r"--templates\[0\] \(nope_email\)"):
        _run("--since", "2000-01-01T00:00:00Z", "--templates", str(drafts))
    with pytest.raises(CommandError, match="name the events"):
        _run()
    with pytest.raises(CommandError, match="--key"):
        _run("--since", "2000-01-01T00:00:00Z", "--live", "--key", "no spaces/slashes")
    with pytest.raises(CommandError, match="--event-id"):
        _run("--event-id", "not-a-uuid")
