"""Versions: every save is a new row, older ones stay readable, the tenant's version moves with the save, and a
save over a version that is not the current one is refused."""

from __future__ import annotations

import pytest

from notifications.rules import store
from notifications.rules.errors import RulesInvalid, VersionConflict
from notifications.rules.models import RuleSet
from notifications.tenants.models import Tenant

pytestmark = pytest.mark.django_db
SKIP = [{"name": "r", "actions": {"skip": "x"}}]


def test_each_save_is_a_new_version(tenant):
    first = store.save_rules("acme", SKIP)
    second = store.save_rules("acme", [], expected_version=1)

    assert (first.rule_set.version, second.rule_set.version) == (1, 2)
    assert Tenant.objects.get(pk="acme").rules_version == 2
    assert store.current("acme").rules == [] and store.version("acme", 1).rules == SKIP
    assert [r.version for r in store.versions("acme")] == [2, 1]


def test_a_stale_expected_version_is_a_conflict(tenant):
    store.save_rules("acme", SKIP)
    with pytest.raises(VersionConflict, match="expected_version is 0 but the current version is 1"):
        store.save_rules("acme", [], expected_version=0)
    assert RuleSet.objects.count() == 1


def test_an_invalid_set_saves_nothing(tenant):
    with pytest.raises(RulesInvalid):
        store.save_rules("acme", [{"name": "r", "when": "(((", "actions": {"skip": "x"}}])
    assert not RuleSet.objects.exists() and Tenant.objects.get(pk="acme").rules_version == 0


def test_versions_are_per_tenant(tenant):
    store.save_rules("acme", SKIP)
    store.save_rules("globex", SKIP)
    assert store.current("globex").version == 1 and store.version("globex", 2) is None
