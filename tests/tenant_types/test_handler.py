"""The generic handler of a tenant-defined type: the recipient's language along the fallback chain (the
tenant's default locale included), the tenant's own NotificationTemplate over the defaults, preview."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.events.registry import event_registry
from notifications.tenant_types.handler import Definition, TenantTypeHandler
from notifications.tenants.models import Contact, Tenant
from tests.tenant_types.helpers import NAME, definition, event

pytestmark = pytest.mark.django_db


def _handler(default_locale: str | None = None) -> TenantTypeHandler:
    body = definition()
    return TenantTypeHandler(Definition(
        tenant_id="acme", name=NAME, version=1, payload_schema=body["payload_schema"],
        channels=tuple(body["channels"]), templates=body["templates"], example=body["example"]), default_locale)


@pytest.mark.parametrize(("locale", "default", "chosen"), [
    ("de-AT", None, "de"),  # de-AT -> de
    ("de_DE", None, "de"),
    ("fr", "de", "de"),  # no French: the tenant's default locale
    ("fr", None, "en"),  # nor a tenant default: the built-in default language
    (None, None, "en"),
])
def test_the_email_set_follows_the_fallback_chain(locale, default, chosen):
    assert _handler(default).locale_for("email", locale) == chosen


def test_a_locale_neutral_set_serves_every_language():
    handler = _handler()

    assert handler.locale_for("in_app", "ja") == ""
    assert handler.locale_for("sms", "en") is None


def test_the_tenants_default_locale_is_used_for_a_recipient_without_one(api_a, deliver):
    Tenant.objects.filter(pk="acme").update(settings={"default_locale": "de"})
    Contact.objects.create(tenant_id="acme", user_id="u-1", email="u-1@example.com")
    assert api_a.post("/event-types", definition()).status_code == 201

    event_registry.process_event(event())
    deliver()

    assert [message.subject for message in mail.outbox] == ["Bestellung A-42 versandt"]


def test_the_tenants_own_template_wins_over_the_types_default(api_a, deliver):
    api_a.post("/event-types", definition())
    Contact.objects.create(tenant_id="acme", user_id="u-1", email="u-1@example.com")

    saved = api_a.post("/templates", {"name": "order_shipped_email", "channel": "email",
                                      "content": {"subject": "Custom {{ order_id }}", "body": "{{ carrier }}"}})
    event_registry.process_event(event())
    deliver()

    assert saved.status_code == 201, saved.content
    assert [message.subject for message in mail.outbox] == ["Custom A-42"]


def test_a_template_for_another_tenants_type_is_refused(api_a, api_b):
    api_a.post("/event-types", definition())

    answer = api_b.post("/templates", {"name": "order_shipped_email", "channel": "email",
                                       "content": {"subject": "x", "body": "y"}})

    assert answer.status_code == 422 and "no registered event type" in answer.json()["detail"]


def test_preview_renders_the_types_default_with_its_example(api_a, api_b):
    api_a.post("/event-types", definition())

    answer = api_a.post("/templates/preview", {"event_type": NAME, "channel": "email"})
    theirs = api_b.post("/templates/preview", {"event_type": NAME, "channel": "email"})

    assert answer.status_code == 200, answer.content
    assert answer.json() == {"fields": {"subject": "Order A-1 shipped", "body": "Your order A-1 is on its way with "
                                        "DHL.", "html": answer.json()["fields"]["html"]}, "source": "default[en]"}
    assert theirs.status_code == 422
