"""Payload fields: patterns matched to their end, amounts and counts bounded."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import TypeAdapter, ValidationError

from notifications.events.handlers.app import ContentLikedPayload, InvoicePaymentFailedPayload
from notifications.events.handlers.auth import LoginFailedPayload
from notifications.events.handlers.fields import _PHONE, _PLAIN_EMAIL, E164, MAX_AMOUNT, Email, Phone
from notifications.events.handlers.security import TwoFactorAttemptFailedPayload

INVOICE = {"user_id": "u-1", "invoice_id": "INV-1", "currency": "usd"}


@pytest.mark.parametrize("pattern", [_PHONE, E164, _PLAIN_EMAIL])
def test_patterns_are_matched_to_their_end(pattern):
    valid = "ann@example.com" if pattern is _PLAIN_EMAIL else "+14155550123"
    assert pattern.fullmatch(valid)
    assert not pattern.fullmatch(valid + "\n")


@pytest.mark.parametrize("value", ["+14155550123\x00", "+14155550123x", "+1415555012345678"])
def test_phone_numbers_are_refused(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Phone).validate_python(value)


def test_phone_number_separators_are_still_accepted():
    # Whitespace is a separator, as are brackets, dots and dashes: what remains is one E.164 number.
    assert TypeAdapter(Phone).validate_python("+1 (415) 555-0123\n") == "+14155550123"


@pytest.mark.parametrize("value", ["ann@example.com\nbcc@example.com", "ann@example.com\x00", "a@b.com,c@d.com"])
def test_email_addresses_are_matched_to_their_end(value):
    with pytest.raises(ValidationError):
        TypeAdapter(Email).validate_python(value)


@pytest.mark.parametrize("amount", [MAX_AMOUNT, 2**70, 1e300, "1e-5000", "12.34567", "NaN", "Infinity", -1])
def test_amounts_out_of_range_are_refused(amount):
    with pytest.raises(ValidationError) as raised:
        InvoicePaymentFailedPayload.model_validate({**INVOICE, "amount": amount})
    assert raised.value.errors()[0]["loc"] == ("amount",)


@pytest.mark.parametrize("amount,expected", [(1234.5, "1234.5"), ("0.0001", "0.0001"), (MAX_AMOUNT - 1, None)])
def test_amounts_in_range_are_kept(amount, expected):
    parsed = InvoicePaymentFailedPayload.model_validate({**INVOICE, "amount": amount}).amount
    assert parsed == Decimal(expected or str(amount))


@pytest.mark.parametrize("model,field,extra", [
    (ContentLikedPayload, "like_count", {"content_id": "c", "liked_by": "b"}),
    (LoginFailedPayload, "attempt_count", {}),
    (TwoFactorAttemptFailedPayload, "attempt_count", {}),
])
def test_counts_are_bounded(model, field, extra):
    with pytest.raises(ValidationError):
        model.model_validate({"user_id": "u-1", **extra, field: 2**70})
    with pytest.raises(ValidationError):
        model.model_validate({"user_id": "u-1", **extra, field: -1})
    assert getattr(model.model_validate({"user_id": "u-1", **extra, field: 7}), field) == 7


@pytest.mark.django_db
def test_phone_numbers_padded_beyond_a_number_size_are_not_remembered():
    from notifications.events.handlers.fields import _compact_phone, _phone

    before = _compact_phone.cache_info().currsize
    padded = " " * 100_000 + "+14155550123"
    assert _phone(padded) == "+14155550123"
    assert _compact_phone.cache_info().currsize == before
    assert _phone("+1 (415) 555-0199") == "+14155550199"
    assert _compact_phone.cache_info().currsize == before + 1
