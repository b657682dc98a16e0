"""The tenant's default_timezone and quiet_hours through PUT /tenant/settings, and the reason a held record
shows in GET /records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from notifications.testing import make_event
from tests.helpers import error_detail

pytestmark = pytest.mark.django_db


def test_settings_take_a_default_zone_and_quiet_hours(api_a):
    answer = api_a.put("/tenant/settings", {"default_timezone": "america/new_york",
                                            "quiet_hours": {"start": "21:30", "end": "06:45"}})
    assert answer.status_code == 200, answer.content
    settings = answer.json()["settings"]
    assert (settings["default_timezone"], settings["quiet_hours"]) == (
        "America/New_York", {"start": "21:30", "end": "06:45"})


@pytest.mark.parametrize(("body", "words"), [
    ({"default_timezone": "Europe/Berln"}, "default_timezone: Value error, unknown time zone 'Europe/Berln'"),
    ({"quiet_hours": {"start": "22:00", "end": "7"}}, "quiet_hours.end: must be HH:MM"),
    ({"quiet_hours": {"start": "22:00"}}, "quiet_hours.end: is required"),
    ({"quiet_hours": {"start": "22:00", "end": "22:00"}}, "quiet_hours.end: must differ from start"),
])
def test_bad_settings_answer_422_naming_the_part(api_a, body, words):
    answer = api_a.put("/tenant/settings", body)
    assert answer.status_code == 422
    assert words in error_detail(answer)


def test_a_held_record_shows_why_it_waits_in_the_records_list(api_a, api_b):
    api_a.put("/tenant/settings", {"default_timezone": "Europe/Berlin",
                                   "quiet_hours": {"start": "22:00", "end": "07:00"}})
    with time_machine.travel(datetime(2026, 12, 6, 22, 30, tzinfo=UTC), tick=False):
        api_a.post("/events", make_event("task.assigned"))

    held = api_a.get("/records", QUERY_STRING="status=scheduled").json()["items"]
    assert {(r["channel"], r["reason"]) for r in held} == {("email", "held_quiet_hours"),
                                                           ("push", "held_quiet_hours")}
    assert {r["next_attempt_at"] for r in held} == {"2026-12-07T06:00:00Z"}
    assert api_b.get("/records").json()["items"] == []  # another tenant sees none of them
