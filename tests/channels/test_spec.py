"""The channels' declared specs: an address that fails its channel's check is skipped, never sent."""

from __future__ import annotations

import pytest

from notifications.enums import SkipReason
from notifications.events.registry import event_registry
from notifications.models import Contact
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_sms_needs_an_e164_number(tenant):
    Contact.objects.create(tenant=tenant, user_id="u-7", phone="0151 2345678")

    result = event_registry.process_event(make_event("user.login.failed", user_id="u-7", phone=None))

    [sms] = [r for r in result.records if r.channel == "sms"]
    assert (sms.status, sms.reason) == ("skipped", SkipReason.INVALID_ADDRESS)
