"""The admin of tenant-defined types: the API's checks, and a new version on every change."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from notifications.tenant_types import service
from notifications.tenant_types.models import TenantEventType
from tests.tenant_types.helpers import NAME, definition

pytestmark = pytest.mark.django_db


def _form(**changes):
    body = definition(**changes)
    return {"tenant": "acme", "name": body["name"], "is_active": "on", "description": body["description"],
            **{field: json.dumps(body[field]) for field in ("payload_schema", "channels", "templates", "example")}}


def test_the_admin_refuses_a_remote_reference_naming_it(admin_client, tenant):
    hostile = {"type": "object", "properties": {"a": {"$ref": "https://example.com/a.json"}}}

    page = admin_client.post(reverse("admin:notifications_tenanteventtype_add"), _form(payload_schema=hostile))

    assert page.status_code == 200 and b"/properties/a/$ref" in page.content
    assert not TenantEventType.objects.exists()


def test_a_change_in_the_admin_is_a_new_version(admin_client, tenant):
    body = definition()
    row = service.create("acme", body.pop("name"), body)

    page = admin_client.post(reverse("admin:notifications_tenanteventtype_change", args=[row.pk]),
                             _form(description="Changed in the admin"))

    assert page.status_code == 302, page.content.decode()[-2000:]
    row.refresh_from_db()
    assert (row.version, row.description) == (2, "Changed in the admin")
    assert admin_client.get(reverse("admin:notifications_tenanteventtype_changelist")).status_code == 200
    assert NAME in admin_client.get(reverse("admin:notifications_tenanteventtype_changelist")).content.decode()
