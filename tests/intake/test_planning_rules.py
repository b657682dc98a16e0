"""A tenant's rules applied by intake's planner (notifications/rules): the issue's example, skips with the rule's
name, priority lanes, delays through the same due time, mandatory types untouchable, and a rule that fails on
one event failing that event alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.delivery.models import NotificationRecord
from notifications.enums import Lane, Outcome, SkipReason, Status
from notifications.events.models import RejectedEvent
from notifications.intake.service import process_events
from notifications.rules.store import save_rules
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

ISSUE_EXAMPLE = [
    {"name": "no sms for invoices by default", "event_types": ["invoice.payment.failed"],
     "actions": {"remove_channels": ["sms"]}},
    {"name": "big invoices also by sms", "event_types": ["invoice.payment.failed"],
     "when": "payload.amount > 1000", "actions": {"add_channels": ["sms"]}},
    {"name": "free plan: no push for likes", "event_types": ["content.liked"],
     "when": '(has(metadata.plan) && metadata.plan == "free") || (has(payload.plan) && payload.plan == "free")',
     "actions": {"remove_channels": ["push"]}},
]


def records(result) -> list[NotificationRecord]:
    return list(NotificationRecord.objects.filter(pk__in=[summary.record_id for summary in result.records]))


def channels_of(result) -> dict[str, str]:
    return {r.channel: r.status for r in records(result)}


def test_the_issues_example(tenant):
    save_rules("acme", ISSUE_EXAMPLE)
    big = make_event("invoice.payment.failed", amount=1500)
    small = make_event("invoice.payment.failed", amount=20, user_id="u-2")
    free_meta = {**make_event("content.liked"), "metadata": {"plan": "free"}, "event_id": "e-1"}
    free_payload = {**make_event("content.liked", plan="free"), "event_id": "e-2"}
    paid = {**make_event("content.liked"), "metadata": {"plan": "pro"}, "event_id": "e-3"}

    results = process_events([big, small, free_meta, free_payload, paid])

    assert all(r.outcome == Outcome.PROCESSED for r in results), results
    assert set(channels_of(results[0])) == {"email", "sms", "push"}
    assert set(channels_of(results[1])) == {"email", "push"}
    assert set(channels_of(results[2])) == {"in_app"}
    assert set(channels_of(results[3])) == {"in_app"}
    assert set(channels_of(results[4])) == {"in_app", "push"}


def test_without_rules_nothing_changes(tenant):
    result = process_events([make_event("invoice.payment.failed", amount=20)])[0]
    assert set(channels_of(result)) == {"email", "sms", "push"}


def test_a_skip_names_its_rule_and_reason(tenant):
    save_rules("acme", [{"name": "quiet likes", "event_types": ["content.liked"],
                         "actions": {"skip": "likes are shown in the app only"}}])

    result = process_events([make_event("content.liked")])[0]

    found = records(result)
    assert {r.status for r in found} == {Status.SKIPPED}
    assert {r.reason for r in found} == {SkipReason.RULE_SKIPPED}
    assert {r.error_detail for r in found} == {"rule 'quiet likes': likes are shown in the app only"}


def test_mandatory_types_cannot_be_skipped_or_lose_their_channel(tenant):
    save_rules("acme", [{"name": "nothing at all", "actions": {"skip": "no", "remove_channels": ["sms", "email"]}}])

    code = process_events([make_event("auth.2fa.code.requested", method="sms")])[0]
    liked = process_events([make_event("content.liked")])[0]

    assert channels_of(code) == {"sms": Status.PENDING}
    assert {r.reason for r in records(liked)} == {SkipReason.RULE_SKIPPED}


def test_low_priority_goes_to_the_bulk_lane_but_never_a_security_alert(tenant):
    save_rules("acme", [{"name": "low", "actions": {"priority": "low"}}])

    liked = process_events([make_event("content.liked")])[0]
    alert = process_events([make_event("user.login.failed")])[0]

    assert {r.lane for r in records(liked)} == {Lane.BULK}
    assert {r.lane for r in records(alert)} == {Lane.NORMAL}


@time_machine.travel("2026-12-06 10:00:00+00:00", tick=False)
def test_a_delay_is_the_records_due_time_and_critical_events_ignore_it(tenant):
    save_rules("acme", [{"name": "later", "actions": {"delay_seconds": 600}}])

    liked = process_events([make_event("content.liked")])[0]
    alert = process_events([make_event("user.login.failed")])[0]

    push = next(r for r in records(liked) if r.channel == "push")
    assert push.status == Status.SCHEDULED and push.next_attempt_at == timezone.now() + timedelta(seconds=600)
    assert Status.SCHEDULED not in {r.status for r in records(alert)}


@time_machine.travel("2026-12-06 10:00:00+00:00", tick=False)
def test_a_tenant_that_allows_delaying_security_gets_its_delay(tenant):
    tenant.settings = {"allow_delaying_security": True}
    tenant.save()
    save_rules("acme", [{"name": "later", "event_types": ["user.login.failed"], "actions": {"delay_seconds": 60}}])

    alert = process_events([make_event("user.login.failed")])[0]

    assert {r.next_attempt_at for r in records(alert) if r.status == Status.SCHEDULED} == {
        timezone.now() + timedelta(seconds=60)}


def test_a_rule_failing_on_one_event_fails_that_event_alone(tenant, caplog):
    save_rules("acme", [{"name": "reads a missing key", "event_types": ["content.liked"],
                         "when": "payload.missing > 1", "actions": {"skip": "x"}}])

    results = process_events([make_event("content.liked"), make_event("invoice.payment.failed")])

    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.PROCESSED]
    assert RejectedEvent.objects.get().event_type == "content.liked"
    assert "reads a missing key" in caplog.text


def test_a_new_version_applies_to_the_next_batch(tenant):
    save_rules("acme", [{"name": "skip", "event_types": ["content.liked"], "actions": {"skip": "v1"}}])
    first = process_events([make_event("content.liked")])[0]
    save_rules("acme", [])

    second = process_events([make_event("content.liked")])[0]

    assert {r.status for r in records(first)} == {Status.SKIPPED}
    assert Status.SKIPPED not in {r.status for r in records(second) if r.channel == "in_app"}


def test_provider_and_template_go_on_the_record_only_where_set(tenant):
    from notifications.channels.models import ProviderConfig

    ProviderConfig.objects.create(tenant=tenant, channel="sms", provider="log", options={"label": "backup-sms"})
    save_rules("acme", [{"name": "route", "event_types": ["invoice.payment.failed"],
                         "actions": {"provider": {"sms": "backup-sms"}, "template": {"email": "vip_invoice"}}}])

    result = process_events([make_event("invoice.payment.failed")])[0]

    routes = {r.channel: r.route for r in records(result)}
    assert routes == {"sms": '{"provider":"backup-sms"}', "email": '{"template":"vip_invoice"}', "push": None}
