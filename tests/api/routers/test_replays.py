"""POST /api/v1/replays: dry runs with drafts, live replays; the caller's own events only; clear refusals."""

from __future__ import annotations

import pytest

from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

RANGE = {"since": "2000-01-01T00:00:00Z", "until": "2100-01-01T00:00:00Z"}


def test_dry_run_with_a_draft(api_a):
    event_registry.process_event(make_event("task.assigned"))
    draft = {"name": "task_assigned_email", "channel": "email",
             "content": {"subject": "Draft: {{ task_title }}", "body": "Hello"}}
    response = api_a.post("/replays", {**RANGE, "templates": [draft]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["mode"] == "dry_run" and body["events"] == 1
    assert any(s.get("template") == "draft:task_assigned_email" and s["fields"]["subject"].startswith("Draft: ")
               for s in body["samples"])
    assert Event.objects.count() == 1


def test_a_bad_draft_is_refused_naming_it(api_a):
    draft = {"name": "task_assigned_email", "channel": "email", "content": {"subject": "{{ nope }}", "body": "b"}}
    response = api_a.post("/replays", {**RANGE, "templates": [draft]})
    assert response.status_code == 422 and "nope" in response.json()["detail"]
    response = api_a.post("/replays", {**RANGE, "templates": [{**draft, "content": {"subject": "s", "body": "b"}}],
                                       "mode": "live"})
    assert response.status_code == 422 and "drafts are for dry runs" in response.json()["detail"]
    assert api_a.post("/replays", {}).json()["detail"].startswith("name the events")


def test_live_and_cross_tenant(api_a, api_b, deliver):
    event_registry.process_event(make_event("task.assigned"))
    deliver()  # its notifications ended: it may be replayed live
    original = Event.objects.get()
    theirs = api_b.post("/replays", {"event_ids": [str(original.pk)], "mode": "live"}).json()
    assert theirs["events"] == 0 and theirs["replayed"] == []
    mine = api_a.post("/replays", {"event_ids": [str(original.pk)], "mode": "live", "key": "fix-1"}).json()
    assert mine["key"] == "fix-1" and [r["outcome"] for r in mine["replayed"]] == ["processed"]
    assert Event.objects.filter(event_id=f"replay:fix-1:{original.pk}", tenant_id="acme").exists()


def test_a_draft_rule_set_and_its_refusal(api_a):
    event_registry.process_event(make_event("task.assigned"))
    rule = {"name": "no push", "event_types": ["task.assigned"], "actions": {"remove_channels": ["push"]}}
    body = api_a.post("/replays", {**RANGE, "rules": [rule]}).json()
    assert not any(row["channel"] == "push" for row in body["outcomes"])
    bad = api_a.post("/replays", {**RANGE, "rules": [{**rule, "when": "payload.("}]})
    assert bad.status_code == 422 and bad.json()["detail"].startswith("rules: rules[0]")
    live = api_a.post("/replays", {**RANGE, "rules": [rule], "mode": "live"})
    assert live.status_code == 422 and "drafts are for dry runs" in live.json()["detail"]
