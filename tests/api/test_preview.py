"""notifications/api/preview.py: a preview shows times in the zone asked for, else the tenant's default."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

BODY = "Signed in {{ event_timestamp | datetime }} ({{ login_time }})"


def _preview(api, **extra):
    return api.post("/templates/preview", {
        "event_type": "user.login.succeeded", "channel": "email",
        "content": {"subject": "Sign-in", "body": BODY},
        "payload": {"user_id": "u-1", "email": "john@example.com", "login_at": "2026-12-07T09:30:00Z"}, **extra})


def test_preview_takes_the_zone_as_a_parameter(api_a):
    answer = _preview(api_a, timezone="Europe/Berlin")
    assert answer.status_code == 200, answer.content
    assert "(December 7, 2026, 10:30 AM CET)" in answer.json()["fields"]["body"]
    assert "CET" in answer.json()["fields"]["body"].split("(")[0]  # the filter too


def test_preview_falls_back_to_the_tenants_default_zone(api_a, tenant):
    assert "(December 7, 2026, 9:30 AM UTC)" in _preview(api_a).json()["fields"]["body"]
    tenant.settings = {**tenant.settings, "default_timezone": "America/New_York"}
    tenant.save()
    assert "(December 7, 2026, 4:30 AM EST)" in _preview(api_a).json()["fields"]["body"]


def test_preview_refuses_an_unknown_zone_naming_it(api_a):
    answer = _preview(api_a, timezone="Mars/Olympus")
    assert answer.status_code == 422
    assert any("timezone" in error["loc"] and "Mars/Olympus" in error["msg"] for error in answer.json()["detail"])
