from __future__ import annotations

import pytest

from notifications.events.registry import event_registry
from notifications.testing import make_event
from tests.helpers import delivered_text

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("method", ["sms", "email", "in_app"])
def test_2fa_code_goes_only_to_the_requested_channel(method, tenant, deliver):
    result = event_registry.process_event(make_event("auth.2fa.code.requested", method=method))
    deliver()

    assert [r.channel for r in result.records] == [method]
    for channel in ("sms", "email", "in_app"):
        assert ("839201" in delivered_text(channel)) == (channel == method)
