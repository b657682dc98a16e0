"""The tenant endpoints: settings that disable channels."""

from __future__ import annotations

import pytest

from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_tenant_settings_disable_channels(api_a):
    response = api_a.put("/tenant/settings", {"disabled_channels": {"invoice.payment.failed": ["sms"]}})
    assert response.status_code == 200
    assert api_a.put("/tenant/settings", {"disabled_channels": {"x": ["fax"]}}).status_code == 422

    result = api_a.post("/events", make_event("invoice.payment.failed")).json()["results"][0]
    assert {r["channel"]: r["reason"] for r in result["records"]}["sms"] == "tenant_disabled_channel"
