"""The planner's one call: compiled once per (tenant, version) per process, no query per event, and one
evaluation per fan-out event when no rule reads the recipient."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.events.envelope import ValidatedEvent
from notifications.events.registry import event_registry
from notifications.rules import book
from notifications.rules.book import RuleBook
from notifications.rules.compiled import RuleFailed
from notifications.rules.models import RuleSet
from notifications.rules.store import save_rules
from notifications.tenants.models import Tenant
from notifications.testing import EXAMPLE_PAYLOADS

pytestmark = pytest.mark.django_db


def event(overrides, user_id="u-1", event_type="content.liked") -> ValidatedEvent:
    """A fan-out's copy of an event: its stored payload, not typed (the book types it)."""
    payload = overrides if overrides is SHARED else {**EXAMPLE_PAYLOADS[event_type], **overrides}
    return ValidatedEvent(event_type, "acme", None, payload, event_registry.handler_for(event_type), "k",
                          user_id=user_id, metadata=METADATA)


SHARED, METADATA = {**EXAMPLE_PAYLOADS["content.liked"], "like_count": 2}, {}


def tenants():
    return Tenant.ensure(["acme", "globex"])


def test_rules_are_read_once_per_version(tenant):
    save_rules("acme", [{"name": "r", "when": "payload.like_count > 1.0", "actions": {"skip": "x"}}])
    loaded = tenants()
    with CaptureQueriesContext(connection) as first:
        rules = RuleBook(loaded)
        outcome = rules.outcome(event({"like_count": 2}), {})
    loaded = tenants()
    with CaptureQueriesContext(connection) as again:
        RuleBook(loaded).outcome(event({"like_count": 2}), {})
    assert outcome.matched == ["r"]
    assert len(first) == 1 and len(again) == 0
    save_rules("acme", [])
    assert RuleBook(tenants()).outcome(event({"like_count": 2}), {}) is None


def test_a_tenant_without_rules_costs_nothing(tenant):
    loaded = tenants()
    with CaptureQueriesContext(connection) as queries:
        assert RuleBook(loaded).outcome(event({}), {}) is None
    assert len(queries) == 0


def test_one_evaluation_per_shared_payload_unless_the_recipient_is_read(tenant, monkeypatch):
    save_rules("acme", [{"name": "r", "when": "payload.like_count > 1", "actions": {"skip": "x"}}])
    rules = RuleBook(tenants())
    payload, calls = SHARED, []
    compiled = rules._sets["acme"]
    evaluate = compiled.evaluate
    monkeypatch.setattr(compiled, "evaluate", lambda *a, **k: calls.append(1) or evaluate(*a, **k))
    for user in ("u-1", "u-2", "u-3"):
        rules.outcome(event(payload, user), {})
    assert len(calls) == 1
    save_rules("acme", [{"name": "r", "when": 'recipient.locale == "de"', "actions": {"skip": "x"}}])
    rules = RuleBook(tenants())
    assert [rules.outcome(event(payload, u), {"locale": loc}) is not None for u, loc in
            (("u-1", "de"), ("u-2", "en"))] == [True, False]


def test_stored_rules_that_no_longer_read_fail_their_tenants_events(tenant):
    save_rules("acme", [{"name": "r", "actions": {"skip": "x"}}])
    RuleSet.objects.filter(tenant_id="acme").update(rules=[{"name": "r", "actions": {"explode": True}}])
    book.forget_compiled()
    with pytest.raises(RuleFailed, match="cannot be read"):
        RuleBook(tenants()).outcome(event({}), {})


def test_a_tenant_made_again_under_its_id_does_not_get_the_old_rules(tenant):
    save_rules("acme", [{"name": "old", "actions": {"skip": "x"}}])
    assert RuleBook(tenants()).outcome(event({}), {}) is not None
    Tenant.objects.filter(pk="acme").delete()
    again = Tenant.objects.create(id="acme")
    Tenant.objects.filter(pk="acme").update(created_at=tenant.created_at.replace(year=2030))
    save_rules("acme", [{"name": "new", "event_types": ["task.assigned"], "actions": {"skip": "x"}}])

    assert again.pk == "acme" and RuleBook(tenants()).outcome(event({}), {}) is None
