from __future__ import annotations

import pytest
from django.core import mail

from notifications.events.registry import event_registry
from notifications.testing import make_event
from tests.helpers import sent_sms

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [(49.99, "EUR", "€49.99"), (5000, "JPY", "¥5,000"), (12, "usd", "$12.00"), (7.5, "XYZ", "7.50")],
)
def test_amounts_are_formatted_with_their_currency(amount, currency, expected, tenant, deliver):
    event_registry.process_event(make_event("invoice.payment.failed", amount=amount, currency=currency))
    deliver()

    assert expected in mail.outbox[0].subject
    assert expected in sent_sms()[0]["body"]
