"""The assembled API is scoped to the API key's tenant: tenant B can neither read nor change anything of tenant
A, endpoint by endpoint."""

from __future__ import annotations

import pytest

from notifications.channels.models import Device
from notifications.models import Contact, NotificationRecord, NotificationTemplate, Preference
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


# --- isolation: tenant B can neither read nor change anything of tenant A, endpoint by endpoint ------------
@pytest.fixture
def a_objects(api_a):
    api_a.post("/events", make_event("task.assigned"))
    template = api_a.post("/templates", {"name": "task_assigned_push", "channel": "push",
                                         "content": {"title": "t", "body": "b"}}).json()
    api_a.put("/contacts/u-1", {"email": "a-secret-user@acme.example.com"})
    device = Device.objects.get(tenant_id="acme", user_id="u-1")
    api_a.put("/users/u-1/preferences", [{"event_type": "*", "channel": "sms", "enabled": False}])
    record = NotificationRecord.objects.filter(tenant_id="acme").first()
    return {"template": template["id"], "device": device.pk, "record": record.pk}


def test_tenant_b_cannot_read_tenant_a(api_b, a_objects):
    assert api_b.get("/templates").json() == []
    assert api_b.get(f"/templates/{a_objects['template']}").status_code == 404
    assert api_b.get("/contacts/u-1").status_code == 404
    assert api_b.get("/contacts/u-1/devices").json() == []
    assert api_b.get("/users/u-1/preferences").json() == []
    assert api_b.get("/records").json()["count"] == 0
    assert api_b.get("/stats").json()["counts"] == []
    assert api_b.get("/tenant").json()["id"] == "globex"
    preview = api_b.post("/templates/preview", {"event_type": "task.assigned", "channel": "push"}).json()
    assert preview["source"] == "default[en]"  # A's template is not used for B


def test_tenant_b_cannot_change_tenant_a(api_b, a_objects):
    assert api_b.patch(f"/templates/{a_objects['template']}", {"is_active": False}).status_code == 404
    assert api_b.post(f"/templates/{a_objects['template']}/deactivate").status_code == 404
    assert api_b.post(f"/templates/{a_objects['template']}/test", {"to": "x@y.co"}).status_code == 404
    assert api_b.delete(f"/devices/{a_objects['device']}").status_code == 404
    assert api_b.post(f"/records/{a_objects['record']}/retry").status_code == 404
    assert api_b.delete("/contacts/u-1").status_code == 404
    api_b.put("/users/u-1/preferences", [])
    api_b.put("/contacts/u-1", {"email": "b@globex.example.com"})
    api_b.put("/tenant/settings", {"disabled_events": ["task.assigned"]})

    assert NotificationTemplate.objects.get(pk=a_objects["template"]).is_active
    assert Device.objects.filter(pk=a_objects["device"]).exists()
    assert Contact.objects.get(tenant_id="acme", user_id="u-1").email == "a-secret-user@acme.example.com"
    assert Preference.objects.filter(tenant_id="acme").count() == 1
    from notifications.tenants.models import Tenant

    assert Tenant.objects.get(id="acme").settings == {}
