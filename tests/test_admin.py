from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.events.registry import event_registry
from notifications.models import Event, NotificationTemplate, RejectedEvent
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

SECRET = "Adm1n-Visible-Pw?"


@pytest.mark.parametrize(
    "model", ["tenant", "notificationtemplate", "notificationrecord", "event", "rejectedevent", "contact",
              "preference", "inappmessage"],
)
def test_admin_lists_render_without_secrets(admin_client, tenant, model):
    event_registry.process_event(make_event("user.registration.completed", temp_password=SECRET))
    event_registry.process_event(make_event("user.registration.completed", temp_password=SECRET, email="x"))

    response = admin_client.get(reverse(f"admin:notifications_{model}_changelist"))

    assert response.status_code == 200
    assert SECRET not in response.content.decode()


def test_admin_detail_pages_mask_secrets(admin_client, tenant):
    event_registry.process_event(make_event("user.registration.completed", temp_password=SECRET))
    event_registry.process_event(make_event("user.registration.completed", temp_password=SECRET, email="x"))

    for url in (reverse("admin:notifications_event_change", args=[Event.objects.get().pk]),
                reverse("admin:notifications_rejectedevent_change", args=[RejectedEvent.objects.get().pk])):
        page = admin_client.get(url).content.decode()
        assert SECRET not in page and "[REDACTED]" in page


def test_admin_template_preview_renders(admin_client, tenant):
    template = NotificationTemplate.objects.create(
        tenant_id=tenant.id, name="invoice_payment_failed_email", channel="email",
        content={"subject": "Pay {{ amount_formatted }}", "body": "Invoice {{ invoice_id }}"})

    page = admin_client.get(reverse("admin:notifications_notificationtemplate_change", args=[template.pk]))

    text = page.content.decode()
    assert "Pay $1,234.50" in text and "Invoice INV-1001" in text


def test_admin_template_preview_renders_in_the_templates_locale(admin_client, tenant):
    template = NotificationTemplate.objects.create(
        tenant_id=tenant.id, name="invoice_payment_failed_sms", channel="sms", locale="de",
        content={"body": "{% trans %}Payment failed{% endtrans %}: {{ amount_formatted }}"})

    page = admin_client.get(reverse("admin:notifications_notificationtemplate_change", args=[template.pk]))

    assert "Zahlung fehlgeschlagen: 1.234,50" in page.content.decode()
    listing = admin_client.get(reverse("admin:notifications_notificationtemplate_changelist") + "?locale=de")
    assert listing.status_code == 200 and "invoice_payment_failed_sms" in listing.content.decode()


def test_admin_refuses_an_unknown_locale(admin_client, tenant):
    url = reverse("admin:notifications_notificationtemplate_add")
    page = admin_client.post(url, {"tenant": tenant.id, "name": "task_assigned_push", "channel": "push",
                                   "locale": "xx-nowhere", "content": '{"title": "t", "body": "b"}',
                                   "placeholders": "[]", "is_active": "on", "version": "1"})
    assert page.status_code == 200 and "unknown locale" in page.content.decode()
    assert not NotificationTemplate.objects.exists()
