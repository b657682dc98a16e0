"""The dry run: what the current or a draft rule set does to one event, through intake's planner, writing
nothing."""

from __future__ import annotations

import pytest

from notifications.delivery.models import NotificationRecord
from notifications.events.models import Event
from notifications.rules.dryrun import DryRunRefused, dry_run
from notifications.rules.errors import RulesInvalid
from notifications.rules.store import save_rules
from notifications.testing import make_event

pytestmark = pytest.mark.django_db
BIG_BY_SMS = [{"name": "small: no sms", "event_types": ["invoice.payment.failed"], "when": "payload.amount <= 1000",
               "actions": {"remove_channels": ["sms"]}},
              {"name": "low", "actions": {"priority": "low", "delay_seconds": 60}}]


def by_channel(result) -> dict[str, dict]:
    return {record["channel"]: record for record in result.records}


def test_a_draft_on_an_event(tenant):
    result = dry_run(tenant, make_event("invoice.payment.failed", amount=20), BIG_BY_SMS)

    assert result.version is None
    assert result.rules == [{"rule": "small: no sms", "matched": True}, {"rule": "low", "matched": True}]
    records = by_channel(result)
    assert set(records) == {"email", "push"}
    assert records["email"]["outcome"] == "scheduled" and records["email"]["lane"] == "bulk"
    assert records["email"]["due_at"]
    assert not Event.objects.exists() and not NotificationRecord.objects.exists()


def test_the_current_rules_by_default(tenant):
    save_rules("acme", [{"name": "quiet", "event_types": ["content.liked"], "actions": {"skip": "in-app only"}}])

    result = dry_run(tenant, make_event("content.liked"))

    assert result.version == 1
    assert {r["outcome"] for r in result.records} == {"skipped"}
    assert {r["detail"] for r in result.records} == {"rule 'quiet': in-app only"}


def test_a_failing_rule_is_shown_not_raised(tenant):
    result = dry_run(tenant, make_event("content.liked"), [
        {"name": "reads nothing there", "when": "payload.nope > 1", "actions": {"skip": "x"}}])
    assert result.rules[0]["rule"] == "reads nothing there" and "error" in result.rules[0]
    assert result.records == []


def test_bad_drafts_and_events_are_refused(tenant):
    with pytest.raises(RulesInvalid):
        dry_run(tenant, make_event("content.liked"), [{"name": "x", "actions": {"skip": 1}}])
    with pytest.raises(DryRunRefused, match="as intake would refuse it"):
        dry_run(tenant, {"event_type": "content.liked", "payload": {}})


def test_provider_and_template_are_shown(tenant):
    from notifications.channels.models import ProviderConfig

    ProviderConfig.objects.create(tenant=tenant, channel="email", provider="log")
    result = dry_run(tenant, make_event("task.assigned"), [
        {"name": "route", "actions": {"provider": {"email": "log"}, "template": {"email": "task_assigned_email"}}}])
    email = by_channel(result)["email"]
    assert (email["provider"], email["template"]) == ("log", "task_assigned_email")
    assert result.warnings and "no template" in result.warnings[0]
