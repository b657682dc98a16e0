"""Creating, changing and deactivating a tenant's types: versions, merges, bounds, and the tenant in every query."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifications.tenant_types import service
from notifications.tenants.models import Tenant
from tests.tenant_types.helpers import NAME, definition

pytestmark = pytest.mark.django_db


def _create(tenant_id: str = "acme", name: str = NAME, **changes):
    body = definition(**changes)
    body.pop("name")
    return service.create(tenant_id, name, body)


def test_an_update_keeps_the_fields_left_out_and_bumps_the_version(tenant):
    _create()

    row = service.update("acme", NAME, {"description": "new text"})

    assert (row.version, row.description) == (2, "new text")
    assert row.templates == definition()["templates"] and row.channels == ["email", "in_app"]


def test_a_refused_update_changes_nothing(tenant):
    _create()

    with pytest.raises(ValidationError):
        service.update("acme", NAME, {"channels": ["email", "sms"]})  # sms has no template

    row = service.get("acme", NAME)
    assert (row.version, row.channels) == (1, ["email", "in_app"])


def test_deactivating_twice_makes_one_version(tenant):
    _create()

    service.deactivate("acme", NAME)
    row = service.deactivate("acme", NAME)

    assert (row.version, row.is_active) == (2, False)


def test_another_tenants_type_is_not_found(tenant):
    Tenant.objects.create(id="globex")
    _create()

    for call in (lambda: service.get("globex", NAME), lambda: service.update("globex", NAME, {}),
                 lambda: service.deactivate("globex", NAME)):
        with pytest.raises(service.EventTypeNotFound):
            call()


def test_a_tenant_may_hold_a_bounded_number_of_types(tenant, monkeypatch):
    monkeypatch.setattr(service, "MAX_TYPES_PER_TENANT", 2)
    _create(name="order.one")
    _create(name="order.two")

    with pytest.raises(ValidationError, match="at most 2 event types"):
        _create(name="order.three")
    Tenant.objects.create(id="globex")
    assert _create("globex", name="order.three").version == 1  # the bound is per tenant
