"""A definition is checked before it is saved: name, schema, channels, templates per channel and locale, the
example. Each error names the bad part."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifications.events.base_handler import BaseEventHandler
from notifications.events.registry import event_registry
from notifications.tenant_types.validation import check_definition, check_name
from notifications.tenants.models import Tenant
from tests.tenant_types.helpers import NAME, definition

pytestmark = pytest.mark.django_db


def _errors(tenant: Tenant, **changes) -> dict[str, list[str]]:
    body = definition(**changes)
    with pytest.raises(ValidationError) as caught:
        check_definition(tenant, NAME, body)
    return caught.value.message_dict


@pytest.mark.parametrize("name", ["user.registration.completed", "comment.mentioned", "notification.cancel"])
def test_a_built_in_type_cannot_be_shadowed(name):
    with pytest.raises(ValidationError, match="cannot be redefined by a tenant"):
        check_name(name)


def test_a_type_a_fallback_handler_claims_cannot_be_shadowed():
    class Wildcard(BaseEventHandler):
        def can_handle(self, event_type: str) -> bool:
            return event_type.startswith("legacy.")

    handler = event_registry.register(Wildcard())
    try:
        with pytest.raises(ValidationError, match="Wildcard"):
            check_name("legacy.thing")
    finally:
        event_registry.unregister_handler(handler)


@pytest.mark.parametrize("name", ["order", "Order.Shipped", "order_shipped.now", "order..shipped", ".order.x",
                                  "order.shipped\n", "o." + "x" * 130, 42])
def test_names_follow_the_dotted_syntax(name):
    with pytest.raises(ValidationError, match="lower-case dotted words"):
        check_name(name)


def test_a_good_definition_is_cleaned_with_canonical_locales(tenant):
    body = definition()
    body["templates"]["email"]["de_de"] = body["templates"]["email"].pop("de")

    cleaned = check_definition(tenant, NAME, body)

    assert set(cleaned["templates"]["email"]) == {"en", "de-DE"}
    assert cleaned["channels"] == ["email", "in_app"]


def test_schema_errors_carry_a_pointer(tenant):
    schema = definition()["payload_schema"]
    schema["properties"]["items"]["minimum"] = "one"

    [message] = _errors(tenant, payload_schema=schema)["payload_schema"]
    assert message.startswith("/properties/items/minimum:")


def test_an_unknown_channel_is_named(tenant):
    assert _errors(tenant, channels=["email", "pigeon"]) == {"channels": ["[1]: unknown channel 'pigeon'"]}


def test_each_channel_needs_a_template_in_some_locale(tenant):
    templates = definition()["templates"]
    del templates["in_app"]

    assert _errors(tenant, templates=templates) == {
        "templates.in_app": ["each channel needs a template in at least one locale"]}


def test_template_errors_name_channel_locale_and_field(tenant):
    templates = definition()["templates"]
    templates["email"]["de"]["body"] = "{{ order_id }"
    assert list(_errors(tenant, templates=templates)) == ["templates.email.de.body"]

    templates = definition()["templates"]
    templates["email"]["de"]["subject"] = "{{ password }} {{ order_id }}"
    assert _errors(tenant, templates=templates) == {"templates.email.de.subject": [
        "unknown placeholder(s): password (the schema's properties and the common placeholders)"]}

    templates = definition()["templates"]
    templates["email"]["xx-not-a-locale"] = templates["email"]["en"]
    assert list(_errors(tenant, templates=templates)) == ["templates.email.xx-not-a-locale"]

    templates = definition()["templates"]
    del templates["email"]["en"]["subject"]
    assert _errors(tenant, templates=templates) == {"templates.email.en": ["email templates need field(s): subject"]}


def test_a_template_over_the_render_budget_with_the_example_is_refused(tenant):
    templates = definition()["templates"]
    templates["in_app"][""]["body"] = "{% for i in range(10**9) %}x{% endfor %}"

    assert list(_errors(tenant, templates=templates)) == ['templates.in_app.""']


def test_the_example_must_fit_the_schema(tenant):
    errors = _errors(tenant, example={"user_id": "u-1", "items": 0})

    assert errors == {"example": ['the schema refuses it: /: "order_id" is a required property; '
                                  '/items: <value> is less than the minimum of 1']}

