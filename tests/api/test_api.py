"""The service API: each endpoint does its job, and is scoped to the API key's tenant."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from notifications.api.models import ApiKey
from notifications.channels.models import Device
from notifications.delivery.worker import deliver_until_idle
from notifications.models import Contact, NotificationRecord, NotificationTemplate, Preference
from notifications.testing import make_event
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db


def test_post_one_event_and_a_batch(api_a):
    one = api_a.post("/events", make_event("task.assigned"))
    batch = api_a.post("/events", [make_event("content.liked"), {"event_type": "nope"}, make_event("content.liked")])

    assert one.status_code == 200
    [result] = one.json()["results"]
    assert result["outcome"] == "processed" and {r["channel"] for r in result["records"]} == {"email", "in_app", "push"}
    outcomes = [(r["outcome"], r["reason"]) for r in batch.json()["results"]]
    assert outcomes == [("processed", None), ("rejected", "missing_field"), ("duplicate", None)]


def test_events_default_to_the_keys_tenant_and_cannot_name_another(api_a):
    event = make_event("task.assigned")
    del event["tenant_id"]
    assert api_a.post("/events", event).json()["results"][0]["tenant_id"] == "acme"
    assert api_a.post("/events", make_event("task.assigned", "globex")).status_code == 403


@pytest.mark.parametrize(("text", "reason"), [
    ('{"event_type": "task.assigned", "event_type": "content.liked"}', "repeated key 'event_type'"),
    ('[{"payload": {"amount": 1, "amount": 100000}}]', "repeated key 'amount'"),
    ('{"payload": {"amount": 1e999}}', "number too large"),
])
def test_events_with_repeated_keys_or_unreadable_numbers_are_refused(api_a, text, reason):
    """The API reads its body as the consumer reads a message: nothing is taken with whichever value won."""
    response = api_a.post("/events", text)
    assert response.status_code == 422
    assert reason in response.json()["detail"]
    assert api_a.get("/records").json()["items"] == []


def test_api_key_is_shown_once_stored_hashed_and_revocable(tenant, capsys):
    call_command("create_api_key", "--tenant-id", tenant.id, "--name", "billing")
    key = capsys.readouterr().out.strip()
    stored = ApiKey.objects.get(name="billing")
    assert key.startswith(f"nsk_{stored.prefix}_") and key not in stored.key_hash and len(stored.key_hash) == 64
    client = ApiClient(key)
    assert client.get("/tenant").status_code == 200

    call_command("revoke_api_key", stored.prefix)
    assert client.get("/tenant").status_code == 401
    assert ApiClient(key[:-1] + "x").get("/tenant").status_code == 401


def test_bearer_header_also_works(api_a):
    key = api_a.headers["HTTP_X_API_KEY"]
    client = ApiClient(None)
    assert client.get("/tenant", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200


def test_templates_crud_preview_and_validation(api_a):
    created = api_a.post("/templates", {
        "name": "task_assigned_email", "channel": "email",
        "content": {"subject": "Task {{ task_title }}", "body": "From {{ assigned_by }}"},
        "placeholders": ["task_title", "assigned_by"]})
    assert created.status_code == 201, created.content
    template_id = created.json()["id"]

    bad = api_a.post("/templates", {"name": "task_assigned_sms", "channel": "sms",
                                    "content": {"body": "{{ shoe_size }}"}})
    assert bad.status_code == 422 and "unknown placeholder(s) for task.assigned: shoe_size" in bad.json()["detail"]

    updated = api_a.patch(f"/templates/{template_id}", {"content": {"subject": "New {{ task_title }}", "body": "b"}})
    assert updated.json()["version"] == 2
    preview = api_a.post("/templates/preview", {"event_type": "task.assigned", "channel": "email"})
    assert preview.json()["fields"]["subject"] == "New Review Q4 budget"
    draft = api_a.post("/templates/preview", {"event_type": "invoice.payment.failed", "channel": "sms",
                                              "content": {"body": "Owed {{ amount_formatted }}"},
                                              "payload": make_event("invoice.payment.failed", amount=5)["payload"]})
    assert draft.json() == {"fields": {"body": "Owed $5.00"}, "source": "draft"}
    assert api_a.post(f"/templates/{template_id}/deactivate").json()["is_active"] is False
    assert [t["name"] for t in api_a.get("/templates?active=false").json()] == ["task_assigned_email"]


def test_template_test_send_uses_the_tenants_provider(api_a, settings):
    from django.core import mail

    created = api_a.post("/templates", {"name": "user_login_succeeded_email", "channel": "email",
                                        "content": {"subject": "Hello {{ company_name }}", "body": "x"}})
    result = api_a.post(f"/templates/{created.json()['id']}/test", {"to": "qa@acme.example.com"})

    assert result.json()["ok"] is True and result.json()["provider"] == "django"
    assert mail.outbox[-1].to == ["qa@acme.example.com"] and mail.outbox[-1].subject == "Hello Acme"


def test_contacts_devices_and_preferences(api_a):
    assert api_a.put("/contacts/u-9", {"email": "nine@example.com", "phone": "+4915112345678"}).status_code == 200
    assert api_a.put("/contacts/u-9", {"email": "not an address"}).status_code == 422
    assert api_a.get("/contacts/u-9").json()["email"] == "nine@example.com"
    device = api_a.post("/contacts/u-9/devices", {"platform": "fcm", "token": "tok-9"})
    assert device.status_code == 201
    assert [d["platform"] for d in api_a.get("/contacts/u-9/devices").json()] == ["fcm"]
    prefs = api_a.put("/users/u-9/preferences", [{"event_type": "task.assigned", "channel": "email",
                                                  "enabled": False}])
    assert prefs.json() == [{"event_type": "task.assigned", "channel": "email", "enabled": False}]

    result = api_a.post("/events", make_event("task.assigned", user_id="u-9", email=None)).json()["results"][0]
    assert {r["channel"]: r["status"] for r in result["records"]} == {
        "email": "skipped", "in_app": "sent", "push": "pending"}

    assert api_a.delete(f"/devices/{device.json()['id']}").status_code == 204
    assert api_a.delete("/contacts/u-9").status_code == 204
    assert api_a.get("/contacts/u-9").status_code == 404


def test_tenant_settings_disable_channels(api_a):
    response = api_a.put("/tenant/settings", {"disabled_channels": {"invoice.payment.failed": ["sms"]}})
    assert response.status_code == 200
    assert api_a.put("/tenant/settings", {"disabled_channels": {"x": ["fax"]}}).status_code == 422

    result = api_a.post("/events", make_event("invoice.payment.failed")).json()["results"][0]
    assert {r["channel"]: r["reason"] for r in result["records"]}["sms"] == "tenant_disabled_channel"


def test_records_filters_retry_and_stats(api_a, settings):
    from notifications.channels.base import Failed, FailureKind
    from notifications.enums import Channel
    from notifications.testing import InMemorySender, use_sender

    api_a.post("/events", [make_event("user.login.failed"), make_event("task.assigned")])
    failing = InMemorySender(Channel.SMS, respond=lambda m: Failed(FailureKind.PERMANENT, "invalid_number"))
    with use_sender(failing):
        deliver_until_idle()

    sms = api_a.get("/records?channel=sms").json()
    assert sms["count"] == 1 and sms["items"][0]["status"] == "failed"
    assert api_a.get("/records?event_type=task.assigned&channel=email").json()["count"] == 1
    record_id = sms["items"][0]["id"]
    assert api_a.post(f"/records/{record_id}/retry").json()["status"] == "pending"
    assert api_a.post(f"/records/{record_id}/retry").status_code == 409

    stats = api_a.get("/stats?hours=24").json()
    assert stats["sent"] >= 3 and stats["failed"] == 0 and stats["success_rate"] == 1.0
    assert stats["delivery_seconds_p50"] is not None and stats["delivery_seconds_p95"] >= stats["delivery_seconds_p50"]
    assert {"channel": "sms", "status": "pending", "count": 1} in stats["counts"]


def test_unauthenticated_calls_are_refused(db):
    anonymous = ApiClient(None)
    for path in ("/templates", "/records", "/stats", "/tenant", "/contacts/u-1", "/inbox/messages"):
        assert anonymous.get(path).status_code == 401, path
    assert anonymous.post("/events", make_event("task.assigned")).status_code == 401


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
    assert preview["source"] == "default"  # A's template is not used for B


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
