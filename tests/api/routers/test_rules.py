"""The rules endpoints: current rules and versions, optimistic saves, the dry run, every bad part named, and
isolation between tenants (each reads, saves and dry-runs its own rules only)."""

from __future__ import annotations

import pytest

from notifications.rules.models import RuleSet
from notifications.testing import make_event

pytestmark = pytest.mark.django_db
RULES = [{"name": "quiet likes", "event_types": ["content.liked"], "actions": {"skip": "in-app only"}}]


def test_save_read_and_list_versions(api_a):
    assert api_a.get("/rules").json() == {"version": 0, "rules": [], "saved_by": "", "created_at": None,
                                          "warnings": []}
    saved = api_a.put("/rules", {"rules": RULES, "expected_version": 0})
    assert saved.status_code == 200, saved.content
    assert (saved.json()["version"], saved.json()["rules"]) == (1, RULES)
    assert api_a.put("/rules", {"rules": []}).json()["version"] == 2

    assert api_a.get("/rules").json()["version"] == 2
    assert [v["version"] for v in api_a.get("/rules/versions").json()] == [2, 1]
    assert api_a.get("/rules/versions/1").json()["rules"] == RULES
    assert api_a.get("/rules/versions/3").status_code == 404


def test_a_stale_version_is_409(api_a):
    api_a.put("/rules", {"rules": RULES})
    answer = api_a.put("/rules", {"rules": [], "expected_version": 0})
    assert answer.status_code == 409 and "current version is 1" in answer.json()["detail"]


def test_bad_rules_are_422_naming_each_part(api_a):
    answer = api_a.put("/rules", {"rules": [
        {"name": "a", "when": "payload.x >", "actions": {"skip": "x"}},
        {"name": "b", "event_types": ["no.such.type"], "actions": {"add_channels": ["fax"]}}]})
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert problems[0]["where"] == "rules[0] 'a'.when" and problems[0]["position"] == 11
    assert problems[1]["where"] == "rules[1] 'b'.actions.add_channels"
    assert RuleSet.objects.count() == 0


def test_hostile_bodies_are_refused(api_a):
    deep = {"name": "deep", "when": "(" * 5000 + "true" + ")" * 5000, "actions": {"skip": "x"}}
    assert api_a.put("/rules", {"rules": [deep]}).status_code == 422
    too_many = [{"name": f"r{i}", "actions": {"skip": "x"}} for i in range(51)]
    assert api_a.put("/rules", {"rules": too_many}).status_code == 422
    huge = {"name": "huge", "when": f'payload.a == "{"x" * 100_000}"', "actions": {"skip": "x"}}
    assert api_a.put("/rules", {"rules": [huge]}).status_code == 422
    nested = '{"rules": ' + "[" * 100_000 + "]" * 100_000 + "}"  # JSON itself nested 100,000 deep
    assert api_a.client.put("/api/v1/rules", nested, content_type="application/json",
                            **api_a.headers).status_code == 400
    assert RuleSet.objects.count() == 0


def test_the_dry_run(api_a):
    api_a.put("/rules", {"rules": RULES})
    current = api_a.post("/rules/dry-run", {"event": make_event("content.liked")})
    assert current.status_code == 200, current.content
    assert current.json()["version"] == 1 and {r["outcome"] for r in current.json()["records"]} == {"skipped"}

    draft = api_a.post("/rules/dry-run", {"event": make_event("content.liked"), "rules": []})
    assert draft.json()["version"] is None and "rule_skipped" not in {r["reason"] for r in draft.json()["records"]}
    bad = api_a.post("/rules/dry-run", {"event": {"event_type": "content.liked"}})
    assert bad.status_code == 422 and bad.json()["problems"][0]["where"] == "event"


def test_a_tenant_never_sees_nor_runs_another_tenants_rules(api_a, api_b):
    api_a.put("/rules", {"rules": RULES})

    assert api_b.get("/rules").json()["version"] == 0
    assert api_b.get("/rules/versions").json() == []
    assert api_b.get("/rules/versions/1").status_code == 404
    other = api_b.post("/rules/dry-run", {"event": make_event("content.liked", tenant_id="acme")})
    assert other.status_code == 200 and other.json()["version"] == 0  # its own (none), and the event is its own
    assert "rule_skipped" not in {r["reason"] for r in other.json()["records"]}
    assert api_b.put("/rules", {"rules": [], "expected_version": 0}).json()["version"] == 1
    assert api_a.get("/rules").json()["rules"] == RULES


def test_every_endpoint_needs_a_key(api_a):
    from tests.fixtures import ApiClient

    anonymous = ApiClient(None)
    for method, path in (("get", "/rules"), ("get", "/rules/versions"), ("get", "/rules/versions/1")):
        assert getattr(anonymous, method)(path).status_code == 401
    assert anonymous.put("/rules", {"rules": []}).status_code == 401
    assert anonymous.post("/rules/dry-run", {"event": {}}).status_code == 401
