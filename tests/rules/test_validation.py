"""Checks against the tenant on save: unknown event types and providers refuse, unknown templates and actions
that mandatory types ignore are said, a delay on security notifications needs the tenant's consent."""

from __future__ import annotations

import pytest

from notifications.channels.models import ProviderConfig
from notifications.rendering.models import NotificationTemplate
from notifications.rules.errors import RulesInvalid
from notifications.rules.validation import check_rules

pytestmark = pytest.mark.django_db


def problems(tenant, raw) -> list[str]:
    with pytest.raises(RulesInvalid) as caught:
        check_rules(tenant, raw)
    return [str(problem) for problem in caught.value.problems]


def test_unknown_event_types_and_providers_are_refused(tenant):
    ProviderConfig.objects.create(tenant=tenant, channel="sms", provider="twilio", options={"label": "backup"})
    assert problems(tenant, [{"name": "r", "event_types": ["invoice.paid.typo"], "actions": {
        "provider": {"sms": "nexmo", "email": "backup"}}}]) == [
        "rules[0] 'r'.event_types: unknown event type 'invoice.paid.typo'",
        "rules[0] 'r'.actions.provider.email: no enabled email provider named 'backup' (the tenant's: none "
        "configured)",
        "rules[0] 'r'.actions.provider.sms: no enabled sms provider named 'nexmo' (the tenant's: backup, twilio)",
    ]
    rules, warnings = check_rules(tenant, [{"name": "r", "actions": {"provider": {"sms": "backup"}}}])
    assert rules[0].actions.provider == {"sms": "backup"} and warnings == []


def test_another_tenants_provider_and_template_are_unknown(tenant):
    from notifications.tenants.models import Tenant

    other = Tenant.objects.create(id="globex")
    ProviderConfig.objects.create(tenant=other, channel="sms", provider="twilio")
    NotificationTemplate.objects.create(tenant=other, name="task_assigned_email", channel="email",
                                        content={"subject": "x", "body": "y"})
    assert len(problems(tenant, [{"name": "r", "actions": {"provider": {"sms": "twilio"}}}])) == 1
    _, warnings = check_rules(tenant, [{"name": "r", "actions": {"template": {"email": "task_assigned_email"}}}])
    assert warnings and "no template 'task_assigned_email'" in warnings[0]


def test_mandatory_types_say_what_is_ignored(tenant):
    _, warnings = check_rules(tenant, [{"name": "r", "event_types": ["auth.2fa.code.requested"],
                                        "actions": {"skip": "no"}}])
    assert len(warnings) == 1 and "mandatory" in warnings[0] and warnings[0].startswith("rules[0] 'r'.actions")


def test_a_delay_on_security_notifications_needs_the_tenants_consent(tenant):
    rule = [{"name": "r", "event_types": ["user.login.failed"], "actions": {"delay_seconds": 60}}]
    assert problems(tenant, rule)[0].startswith("rules[0] 'r'.actions.delay_seconds: these event types are security")
    tenant.settings = {"allow_delaying_security": True}
    tenant.save()
    assert check_rules(tenant, rule)[1] == []
    # A rule over every type may delay: critical events ignore it when the rules run.
    assert check_rules(tenant.__class__.objects.create(id="other"), [
        {"name": "r", "actions": {"delay_seconds": 60}}])[1] == []
