"""The 11 event types: their channel map, and the content each channel gets."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.channels.models import Device
from notifications.delivery.models import NotificationRecord
from notifications.enums import Channel, Outcome, Status
from notifications.events.registry import event_registry
from notifications.testing import EXAMPLE_PAYLOADS, make_event
from tests.helpers import delivered_text, sent_push, sent_sms

pytestmark = pytest.mark.django_db

CHANNEL_MAP = {
    "user.registration.completed": {"email", "in_app"},
    "user.password.reset.requested": {"email", "sms"},
    "user.login.succeeded": {"email"},
    "user.login.failed": {"email", "sms", "push"},
    "invoice.payment.failed": {"email", "sms", "push"},
    "task.assigned": {"email", "in_app", "push"},
    "comment.mentioned": {"email", "in_app", "push"},
    "content.liked": {"in_app", "push"},
    "auth.2fa.code.requested": {"sms"},  # method=sms in the example; see the 2FA tests
    "auth.2fa.attempt.failed": {"email", "sms", "push"},
    "auth.2fa.method.changed": {"email", "sms", "in_app"},
}

# What each channel must show for each type: a fact from the payload, formatted.
EXPECTED = {
    "user.registration.completed": {"email": "Username: johndoe", "in_app": "Welcome to Acme"},
    "user.password.reset.requested": {"email": "rst-tok-9f8e7d", "sms": "reset your password"},
    "user.login.succeeded": {"email": "Berlin, DE"},
    "user.login.failed": {"email": "3 failed sign-in attempts", "sms": "Lagos, NG", "push": "3 failed"},
    "invoice.payment.failed": {"email": "$1,234.50", "sms": "$1,234.50", "push": "INV-1001"},
    "task.assigned": {"email": "Review Q4 budget", "in_app": "Jane Smith", "push": "Review Q4 budget"},
    "comment.mentioned": {"email": "Launch plan", "in_app": "can you check this?", "push": "Jane Smith"},
    "content.liked": {"in_app": "Jane Smith and 2 others", "push": "My first post"},
    "auth.2fa.code.requested": {"sms": "839201 is your Acme verification code"},
    "auth.2fa.attempt.failed": {"email": "2 times", "sms": "2 failed verification", "push": "two-factor"},
    "auth.2fa.method.changed": {"email": "from sms to authenticator app", "sms": "authenticator app",
                                "in_app": "authenticator app"},
}


def test_every_builtin_type_is_registered():
    assert set(event_registry.event_types) == set(EXAMPLE_PAYLOADS) == set(CHANNEL_MAP)


@pytest.mark.parametrize("event_type", sorted(CHANNEL_MAP))
def test_event_type_notifies_its_channels_with_content(event_type, tenant, deliver):
    result = event_registry.process_event(make_event(event_type))
    assert result.outcome == Outcome.PROCESSED, str(result)
    assert {r.channel for r in result.records} == CHANNEL_MAP[event_type]

    deliver()

    statuses = dict(NotificationRecord.objects.values_list("channel", "status"))
    assert statuses == {channel: Status.SENT for channel in CHANNEL_MAP[event_type]}
    for channel, expected in EXPECTED[event_type].items():
        assert expected in delivered_text(channel), f"{event_type}/{channel} lacks {expected!r}"


@pytest.mark.parametrize("event_type", sorted(CHANNEL_MAP))
def test_every_channel_of_every_type_has_default_content(event_type):
    handler = event_registry.handler_for(event_type)
    channels = set(handler.channels or ())
    assert channels, event_type
    for channel in channels:
        assert handler.default_templates.get(channel), f"{event_type} has no default {channel} content"


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


@pytest.mark.parametrize("method", ["sms", "email", "in_app"])
def test_2fa_code_goes_only_to_the_requested_channel(method, tenant, deliver):
    result = event_registry.process_event(make_event("auth.2fa.code.requested", method=method))
    deliver()

    assert [r.channel for r in result.records] == [method]
    for channel in ("sms", "email", "in_app"):
        assert ("839201" in delivered_text(channel)) == (channel == method)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(49.99, "EUR", "€49.99"), (5000, "JPY", "¥5,000"), (12, "usd", "$12.00"), (7.5, "XYZ", "7.50")],
)
def test_amounts_are_formatted_with_their_currency(amount, currency, expected, tenant, deliver):
    event_registry.process_event(make_event("invoice.payment.failed", amount=amount, currency=currency))
    deliver()

    assert expected in mail.outbox[0].subject
    assert expected in sent_sms()[0]["body"]


def test_push_and_sms_go_to_the_log_provider(tenant, deliver):
    event_registry.process_event(make_event("user.login.failed"))
    deliver()

    [sms], [push] = sent_sms(), sent_push()
    device = Device.objects.get(user_id="u-1")
    assert sms["to"] == "+14155550123"
    assert push["to"] == f"device:{device.pk}" and push["platform"] == "fcm"
    assert push["title"] == "Failed sign-in attempt"
    providers = set(NotificationRecord.objects.exclude(channel=Channel.EMAIL).values_list("provider", flat=True))
    assert providers == {"log"}


def test_typed_payload_is_what_model_dump_gives_flat_or_nested():
    from datetime import datetime
    from decimal import Decimal

    from pydantic import BaseModel, field_serializer

    from notifications.events.base_handler import BaseEventHandler, EventPayload

    class Inner(BaseModel):
        at: datetime

    class Flat(EventPayload):
        amount: Decimal
        at: datetime | None = None

    class Nested(EventPayload):
        inner: Inner | None = None

    class Serialized(EventPayload):
        amount: Decimal

        @field_serializer("amount")
        def _twice(self, value: Decimal) -> Decimal:
            return value * 2

    from typing import Annotated, NamedTuple

    from pydantic import ConfigDict, Field, PlainSerializer

    class Excluded(EventPayload):
        amount: Decimal | None = Field(default=None, exclude=True)

    class AnnotatedSerializer(EventPayload):
        amount: Annotated[Decimal, PlainSerializer(lambda value: str(value))]

    class ByAlias(EventPayload):
        model_config = ConfigDict(serialize_by_alias=True)
        amount: Decimal = Field(alias="amount", serialization_alias="total")

    class Pair(NamedTuple):
        left: int
        right: int

    class Tupled(EventPayload):
        pair: Pair | None = None

    raw = {"amount": "1.50", "at": "2026-11-24T09:00:00Z", "inner": {"at": "2026-11-24T09:00:00Z"}, "extra": [1],
           "pair": [1, 2]}
    for model in (Flat, Nested, Serialized, Excluded, AnnotatedSerializer, ByAlias, Tupled):
        handler = type("H", (BaseEventHandler,), {"payload_model": model, "event_types": ("x.y",)})()
        stored, typed = handler.parse_payload("x.y", dict(raw))
        expected = model.model_validate(dict(raw))
        assert typed == expected.model_dump(), model.__name__
        assert stored == expected.model_dump(mode="json"), model.__name__
        if model not in (Excluded, ByAlias):  # their stored form is not their input form
            assert handler.load_payload(stored) == model.model_validate(stored).model_dump(), model.__name__
    assert isinstance(Nested.model_validate(raw).model_dump()["inner"], dict)


def test_phone_numbers_padded_beyond_a_number_size_are_not_remembered():
    from notifications.events.handlers.fields import _compact_phone, _phone

    before = _compact_phone.cache_info().currsize
    padded = " " * 100_000 + "+14155550123"
    assert _phone(padded) == "+14155550123"
    assert _compact_phone.cache_info().currsize == before
    assert _phone("+1 (415) 555-0199") == "+14155550199"
    assert _compact_phone.cache_info().currsize == before + 1
