from __future__ import annotations

import pytest
from django.core import mail

from notifications.events.registry import event_registry
from notifications.testing import make_event
from tests.helpers import delivered_text, sent_sms

pytestmark = pytest.mark.django_db


def test_registration_with_username_shows_username(tenant, deliver):
    event_registry.process_event(make_event("user.registration.completed"))
    deliver()

    [email] = mail.outbox
    assert email.to == ["john@example.com"]
    assert "Username: johndoe" in email.body
    assert "Email: john@example.com" not in email.body


def test_registration_without_username_shows_email(tenant, deliver):
    event_registry.process_event(make_event("user.registration.completed", username="", email="user@example.com"))
    deliver()

    [email] = mail.outbox
    assert "Email: user@example.com" in email.body
    assert "Username:" not in email.body


def test_registration_without_credentials_has_no_credentials_block(tenant, deliver):
    event = make_event("user.registration.completed", send_credentials=False, temp_password=None, login_link=None)
    event_registry.process_event(event)
    deliver()

    [email] = mail.outbox
    assert "Welcome to Acme" in email.body
    for absent in ("Username:", "Temporary password", "TempPass123!", "Sign in here", "app.example.com/login"):
        assert absent not in email.body


def test_temp_password_and_login_link_only_inside_the_credentials_block(tenant, deliver):
    event_registry.process_event(make_event("user.registration.completed"))
    deliver()

    body = mail.outbox[0].body
    block_start = body.index("Your sign-in details:")
    block_end = body.index("Please change this temporary password")
    outside = body[:block_start] + body[block_end:]
    assert "TempPass123!" in body[block_start:block_end]
    assert "https://app.example.com/login" in body[block_start:block_end]
    assert "TempPass123!" not in outside and "app.example.com/login" not in outside
    assert "TempPass123!" not in delivered_text("in_app")


def test_password_reset_uses_the_given_link(tenant, deliver):
    link = "https://app.example.com/reset-password?token=rst-tok-9f8e7d"
    event_registry.process_event(make_event("user.password.reset.requested", reset_link=link))
    deliver()

    assert link in mail.outbox[0].body
    assert link in sent_sms()[0]["body"]


def test_password_reset_builds_the_link_from_the_tenant_app_url(tenant, deliver):
    event_registry.process_event(make_event("user.password.reset.requested", reset_token="tok en/1"))
    deliver()

    assert "https://acme.example.com/reset-password?token=tok%20en/1" in mail.outbox[0].body


def test_password_reset_shows_expiry_human_readably(tenant, deliver):
    event_registry.process_event(make_event("user.password.reset.requested"))
    deliver()

    body = mail.outbox[0].body
    assert "November 23, 2026, 1:00 PM UTC" in body
    assert "(in 1 hour)" in body
    assert "2026-11-23T13:00" not in body
