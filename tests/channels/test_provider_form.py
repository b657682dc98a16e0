"""The admin's ProviderConfig form checks channel, options and credentials against the provider's declaration;
credentials are write-only: stored encrypted, never put on a page, kept when the field is left empty."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from notifications.channels.models import ProviderConfig

pytestmark = pytest.mark.django_db

ADD = "admin:notifications_providerconfig_add"


def form(tenant: Any, **overrides: Any) -> dict[str, Any]:
    return {"tenant": tenant.pk, "channel": "sms", "provider": "twilio", "priority": 0, "enabled": "on",
            "options": json.dumps({"from_number": "+15005550006"}),
            "credentials": json.dumps({"account_sid": "AC1", "auth_token": "tw-admin-secret"}), **overrides}


def errors_of(page: Any) -> str:
    assert page.status_code == 200, "the form was accepted"
    return " ".join(message for messages in page.context["adminform"].form.errors.values() for message in messages)


def test_a_typo_and_a_wrong_channel_are_named(admin_client: Any, tenant: Any) -> None:
    page = admin_client.post(reverse(ADD), form(tenant, channel="email",
                                                options=json.dumps({"form_number": "+15005550006"})))
    text = errors_of(page)
    assert "twilio does not serve channel email" in text
    assert "twilio: unknown option 'form_number' (known: base_url, from_number, " in text
    assert not ProviderConfig.objects.exists()


def test_missing_credentials_are_named_and_the_secret_never_echoed(admin_client: Any, tenant: Any) -> None:
    page = admin_client.post(reverse(ADD), form(tenant, credentials=json.dumps({"auth_token": "tw-admin-secret"})))
    assert "twilio: credentials missing account_sid" in errors_of(page)
    assert b"tw-admin-secret" not in page.content
    assert not ProviderConfig.objects.exists()


def test_credentials_are_stored_encrypted_and_kept_when_left_empty(admin_client: Any, tenant: Any) -> None:
    page = admin_client.post(reverse(ADD), form(tenant))
    assert page.status_code == 302, errors_of(page)
    row = ProviderConfig.objects.get()
    assert row.credentials == {"account_sid": "AC1", "auth_token": "tw-admin-secret"}

    change = reverse("admin:notifications_providerconfig_change", args=[row.pk])
    assert b"tw-admin-secret" not in admin_client.get(change).content
    page = admin_client.post(change, form(tenant, credentials="", priority=3))
    assert page.status_code == 302, errors_of(page)
    row.refresh_from_db()
    assert (row.priority, row.credentials["auth_token"]) == (3, "tw-admin-secret")
