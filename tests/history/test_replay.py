"""history.replay: a dry run plans and renders again without writing or sending; live re-runs through intake
under replay keys, never twice for one replay; secrets masked or not replayed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.core import mail

from notifications.channels.models import InAppMessage
from notifications.delivery.models import NotificationRecord
from notifications.digests.models import DigestWindow
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.history.replay import MAX_EVENTS, ReplayError, ReplayQuery, replay
from notifications.security.redaction import MASK
from notifications.tenants.models import Contact, Preference
from notifications.testing import make_event
from tests.fanouts import contacts, fanout_to

pytestmark = pytest.mark.django_db

WIDE = dict(since=datetime(2000, 1, 1, tzinfo=UTC), until=datetime(2100, 1, 1, tzinfo=UTC))


def _snapshot() -> tuple[int, ...]:
    return (Event.objects.count(), NotificationRecord.objects.count(), InAppMessage.objects.count(),
            Contact.objects.count(), DigestWindow.objects.count(), len(mail.outbox))


def test_dry_run_renders_with_drafts_and_writes_nothing(tenant, deliver):
    event_registry.process_events([make_event("task.assigned"), make_event("user.login.succeeded")])
    deliver()
    before = _snapshot()
    draft = {"task_assigned_email": {"subject": "NEW: {{ task_title }}", "body": "Draft body for {{ task_title }}"}}

    summary = replay(ReplayQuery("acme", **WIDE), drafts=draft)

    assert _snapshot() == before
    assert summary.events == 2 and summary.changed == 0  # nothing changed since: same outcomes
    drafted = [s for s in summary.samples if s["template"] == "draft:task_assigned_email"]
    assert drafted and drafted[0]["fields"]["subject"].startswith("NEW: ")
    assert any(s["channel"] == "email" and s["event_type"] == "user.login.succeeded"
               and s["template"] == "default[en]" for s in summary.samples)
    assert ("email", "sent") in summary.outcomes


def test_dry_run_shows_what_would_differ_today(tenant, deliver):
    event_registry.process_event(make_event("task.assigned"))
    deliver()
    Preference.objects.create(tenant=tenant, user_id="u-1", event_type="task.assigned", channel="email",
                              enabled=False)

    summary = replay(ReplayQuery("acme", **WIDE))

    assert summary.changed == 1
    assert summary.differences == [{"event": str(Event.objects.get().pk), "event_type": "task.assigned",
                                    "channel": "email", "was": "sent", "now": "opted_out"}]
    assert summary.outcomes[("email", "opted_out")] == 1


def test_dry_run_masks_secrets_in_what_it_renders(tenant, deliver):
    event_registry.process_event(make_event("auth.2fa.code.requested", code="448812"))
    summary = replay(ReplayQuery("acme", **WIDE)).as_dict()
    assert "448812" not in str(summary)
    assert summary["events"] == 1
    assert any(MASK in str(sample) or "error" in sample for sample in summary["samples"])


def test_live_replays_once_per_key_and_never_a_secret(tenant, deliver):
    event_registry.process_events([make_event("task.assigned"), make_event("auth.2fa.code.requested")])
    deliver()
    originals = set(Event.objects.values_list("pk", flat=True))
    sent_before = len(mail.outbox)

    first = replay(ReplayQuery("acme", **WIDE), live=True)
    assert first.not_replayed == {"secret": 1}  # a 2FA code is never sent again
    assert [r["outcome"] for r in first.replayed] == ["processed"]
    copy = Event.objects.exclude(pk__in=originals).get()
    assert copy.event_id.startswith(f"replay:{first.key}:") and copy.metadata["replay_of"] in map(str, originals)
    deliver()
    assert len(mail.outbox) == sent_before + 1

    again = replay(ReplayQuery("acme", **WIDE), live=True)  # the same replay by mistake: a duplicate
    assert again.key == first.key and [r["outcome"] for r in again.replayed] == ["duplicate"]
    deliver()
    assert len(mail.outbox) == sent_before + 1
    # The same range written with another offset is the same replay.
    shifted = {"since": WIDE["since"].astimezone(timezone(timedelta(hours=1))), "until": WIDE["until"]}
    assert replay(ReplayQuery("acme", **shifted), live=True).key == first.key


def test_live_skips_events_whose_notifications_have_not_ended(tenant):
    event_registry.process_event(make_event("task.assigned"))  # its e-mail still pending: no worker ran
    summary = replay(ReplayQuery("acme", **WIDE), live=True)
    assert summary.not_replayed == {"open": 1} and summary.replayed == []


def test_an_erased_persons_events_are_never_replayed(tenant, deliver):
    from notifications.history.erasure import erase_user

    event_registry.process_events([make_event("task.assigned", user_id="gone-1"), make_event("task.assigned")])
    deliver()
    erase_user("acme", "gone-1")
    assert replay(ReplayQuery("acme", **WIDE)).events == 1
    assert replay(ReplayQuery("acme", **WIDE), live=True).events == 1


def test_audience_events_are_not_replayed(tenant):
    contacts(tenant, 2)
    fanout_to(["user-00000", "user-00001"])
    summary = replay(ReplayQuery("acme", **WIDE))
    assert summary.not_replayed == {"audience": 1} and summary.events == 1


def test_refusals_name_the_problem(tenant, monkeypatch):
    with pytest.raises(ReplayError, match="drafts are for dry runs"):
        replay(ReplayQuery("acme", **WIDE), drafts={"x_email": {"subject": "s", "body": "b"}}, live=True)
    with pytest.raises(ReplayError, match="name the events"):
        replay(ReplayQuery("acme"))
    from notifications.history import replay as module

    monkeypatch.setattr(module, "MAX_EVENTS", 1)
    event_registry.process_events([make_event("task.assigned"), make_event("user.login.succeeded")])
    with pytest.raises(ReplayError, match="2 events match; a replay takes at most 1"):
        replay(ReplayQuery("acme", **WIDE))
    assert MAX_EVENTS == 10_000


def test_only_the_tenants_events_by_id_or_range(tenant):
    from notifications.tenants.models import Tenant

    Tenant.objects.create(id="globex")
    event_registry.process_events([make_event("task.assigned"), make_event("task.assigned", "globex")])
    theirs = Event.objects.get(tenant_id="globex")
    assert replay(ReplayQuery("acme", event_ids=(str(theirs.pk),))).events == 0
    assert replay(ReplayQuery("acme", **WIDE)).events == 1
    now = datetime.now(UTC)
    assert replay(ReplayQuery("acme", since=now + timedelta(hours=1))).events == 0


def test_dry_run_with_a_draft_rule_set_shows_what_it_would_change(tenant, deliver):
    """A rule tried on last week's events before saving it: small failed payments not by SMS. The current rules
    (none) stay; nothing is written; the differences name the event and channel."""
    event_registry.process_events([make_event("invoice.payment.failed", amount="1500.00", phone="+14155550100"),
                                   make_event("invoice.payment.failed", amount="20.00", phone="+14155550100")])
    deliver()
    before = _snapshot()
    rule = [{"name": "small failures not by sms", "event_types": ["invoice.payment.failed"],
             "when": "payload.amount < 100.0", "actions": {"remove_channels": ["sms"]}}]
    without = replay(ReplayQuery("acme", **WIDE))
    with_rule = replay(ReplayQuery("acme", **WIDE), rules=rule)
    assert _snapshot() == before
    assert without.changed == 0
    sms = {outcome: count for (channel, outcome), count in with_rule.outcomes.items() if channel == "sms"}
    assert sms == {"sent": 1}, with_rule.outcomes
    small = Event.objects.get(payload__amount="20.00")
    assert with_rule.changed == 1 and with_rule.differences == [
        {"event": str(small.pk), "event_type": "invoice.payment.failed", "channel": "sms", "was": "sent",
         "now": None}]


def test_a_bad_draft_rule_set_is_refused_naming_its_part(tenant):
    from notifications.rules.errors import RulesInvalid

    event_registry.process_event(make_event("task.assigned"))
    with pytest.raises(RulesInvalid, match="rules\\[0\\]"):
        replay(ReplayQuery("acme", **WIDE), rules=[{"name": "x", "when": "payload.(", "actions": {}}])
