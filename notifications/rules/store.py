"""Saving and reading a tenant's rule sets. A save checks the rules (rules.validation), then writes version n+1
and sets Tenant.rules_version in one transaction, with the tenant's row locked: two saves never get the same
number, and one that expected another version is refused (VersionConflict)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from notifications.rules.errors import VersionConflict
from notifications.rules.models import RuleSet
from notifications.rules.validation import check_rules
from notifications.tenants.models import Tenant


@dataclass(frozen=True, slots=True)
class Saved:
    rule_set: RuleSet
    warnings: list[str]


def current(tenant_id: str) -> RuleSet | None:
    """The active rule set (the newest version), or None before the first save."""
    return RuleSet.objects.filter(tenant_id=tenant_id).order_by("-version").first()


def version(tenant_id: str, number: int) -> RuleSet | None:
    return RuleSet.objects.filter(tenant_id=tenant_id, version=number).first()


def versions(tenant_id: str) -> list[RuleSet]:
    return list(RuleSet.objects.filter(tenant_id=tenant_id).order_by("-version"))


def save_rules(tenant_id: str, rules: Any, *, expected_version: int | None = None, saved_by: str = "") -> Saved:
    """A new version of the tenant's rules; RulesInvalid names every bad part, VersionConflict when
    `expected_version` is not the current one (0: none saved yet)."""
    with transaction.atomic():
        Tenant.ensure([tenant_id])
        tenant = Tenant.objects.select_for_update().get(pk=tenant_id)
        if expected_version is not None and expected_version != tenant.rules_version:
            raise VersionConflict(expected_version, tenant.rules_version)
        _, warnings = check_rules(tenant, rules)
        number = tenant.rules_version + 1
        rule_set = RuleSet.objects.create(tenant=tenant, version=number, rules=rules, saved_by=saved_by[:150])
        Tenant.objects.filter(pk=tenant_id).update(rules_version=number)
    return Saved(rule_set, warnings)
