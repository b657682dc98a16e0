"""The rules admin: versions listed and shown, never edited; a new version saved through the same checks, each
problem shown on the form."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from notifications.rules.models import RuleSet
from notifications.rules.store import save_rules
from notifications.tenants.models import Tenant

pytestmark = pytest.mark.django_db
RULES = [{"name": "quiet likes", "event_types": ["content.liked"], "actions": {"skip": "in-app only"}}]


def test_versions_list_and_show_but_are_not_edited(admin_client, tenant):
    saved = save_rules("acme", RULES).rule_set

    listing = admin_client.get(reverse("admin:notifications_ruleset_changelist"))
    page = admin_client.get(reverse("admin:notifications_ruleset_change", args=[saved.pk]))
    post = admin_client.post(reverse("admin:notifications_ruleset_change", args=[saved.pk]),
                             {"tenant": "acme", "rules": "[]"})

    assert listing.status_code == 200 and "acme" in listing.content.decode()
    assert page.status_code == 200 and "quiet likes" in page.content.decode()
    assert post.status_code == 403 and RuleSet.objects.get().rules == RULES


def test_a_new_version_is_saved_through_the_checks(admin_client, tenant):
    save_rules("acme", RULES)
    add = reverse("admin:notifications_ruleset_add")
    prefilled = admin_client.get(add + "?tenant=acme")
    assert "quiet likes" in prefilled.content.decode()

    bad = admin_client.post(add, {"tenant": "acme", "rules": json.dumps([{"name": "x", "when": "payload.a >",
                                                                           "actions": {"skip": "x"}}])})
    assert bad.status_code == 200 and "rules[0] &#x27;x&#x27;.when" in bad.content.decode()

    good = admin_client.post(add, {"tenant": "acme", "rules": "[]"})
    assert good.status_code == 302
    assert Tenant.objects.get(pk="acme").rules_version == 2
    assert RuleSet.objects.get(version=2).saved_by == "admin:admin"
