"""Rules on a tenant's own event types (notifications/tenant_types): named on save, applied at intake; another
tenant's type of the same name stays unknown to this tenant's rules."""

from __future__ import annotations

import pytest

from notifications.delivery.models import NotificationRecord
from notifications.events.registry import event_registry
from notifications.rules.errors import RulesInvalid
from notifications.rules.store import save_rules
from notifications.tenant_types import service
from tests.tenant_types.helpers import NAME, definition, event

pytestmark = pytest.mark.django_db

SKIP_UPS = [{"name": "no ups e-mails", "event_types": [NAME], "when": 'payload.carrier == "UPS"',
             "actions": {"remove_channels": ["email"]}}]


def test_a_rule_on_the_tenants_own_type_applies_at_intake(tenant):
    service.create("acme", NAME, definition())
    save_rules("acme", SKIP_UPS)
    event_registry.process_events([event(carrier="UPS", email="u1@example.com"),
                                   event(user_id="u-2", carrier="DHL", email="u2@example.com")])
    channels = {(r.user_id, r.channel) for r in NotificationRecord.objects.exclude(status="skipped")}
    assert channels == {("u-1", "in_app"), ("u-2", "email"), ("u-2", "in_app")}


def test_another_tenants_type_is_unknown_to_this_tenants_rules(tenant):
    from notifications.tenants.models import Tenant

    Tenant.objects.create(id="globex")
    service.create("globex", NAME, definition())
    with pytest.raises(RulesInvalid) as caught:
        save_rules("acme", SKIP_UPS)
    assert f"unknown event type '{NAME}'" in str(caught.value.problems[0])
