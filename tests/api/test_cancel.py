"""POST /api/v1/events/cancel (notifications/api/routers/cancel.py): authenticated, the key's tenant only, the
exact number cancelled, 422 naming the problem; cancelled records are listed by GET /records?status=cancelled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from notifications.delivery.models import NotificationRecord
from notifications.enums import Status
from notifications.intake.service import process_events
from notifications.testing import make_event
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 12, 6, 9, 0, tzinfo=UTC), tick=False):
        yield


def reminder(tenant_id: str, n: int = 1, key: str = "appt-1") -> str:
    [result] = process_events([{**make_event("task.assigned", tenant_id, task_id=f"T-{n}"), "event_id": f"t-{n}",
                                "cancel_key": key, "deliver_at": "2026-12-06T18:00:00Z"}])
    return result.event_id


def open_records(tenant_id: str) -> int:
    return NotificationRecord.objects.filter(tenant_id=tenant_id, status=Status.SCHEDULED).count()


def test_cancel_answers_the_number_it_cancelled(api_a):
    reminder("acme", 1)
    reminder("acme", 2)
    reminder("acme", 3, key="other")

    response = api_a.post("/events/cancel", {"cancel_key": "appt-1"})

    assert (response.status_code, response.json()) == (200, {"cancelled": 6})
    assert api_a.post("/events/cancel", {"cancel_key": "appt-1"}).json() == {"cancelled": 0}
    assert open_records("acme") == 3


def test_another_tenants_cancel_of_the_same_key_cancels_nothing_of_ours(api_a, api_b):
    reminder("acme")
    reminder("globex", 2)

    assert api_b.post("/events/cancel", {"cancel_key": "appt-1"}).json() == {"cancelled": 2}  # its own two
    assert open_records("acme") == 3
    assert api_a.post("/events/cancel", {"cancel_key": "appt-1"}).json() == {"cancelled": 3}


def test_cancel_needs_an_api_key(db, tenant):
    reminder("acme")
    assert ApiClient(None).post("/events/cancel", {"cancel_key": "appt-1"}).status_code == 401
    assert ApiClient("nsk_wrong").post("/events/cancel", {"cancel_key": "appt-1"}).status_code == 401
    assert open_records("acme") == 3


@pytest.mark.parametrize(("body", "words"), [
    ({"cancel_key": ""}, "non-empty string of at most 200 characters"),
    ({"cancel_key": "  "}, "non-empty string"),
    ({"cancel_key": "k" * 201}, "at most 200 characters"),
    ({"cancel_key": 42}, "non-empty string"),
    ({"cancel_key": None}, "non-empty string"),
    ({"cancel_key": "a\u0000b"}, "NUL"),
    ({}, "only cancel_key"),
    ({"cancel_key": "appt-1", "tenant_id": "globex"}, "only cancel_key"),
    (["appt-1"], "JSON object"),
    ('{"cancel_key": "a", "cancel_key": "b"}', "JSON object"),
    ("{not json", "JSON object"),
])
def test_a_bad_body_is_a_422_naming_the_problem_and_cancels_nothing(api_a, body, words):
    reminder("acme")
    response = api_a.post("/events/cancel", body)
    assert response.status_code == 422, response.content
    assert words in response.json()["detail"], response.json()
    assert open_records("acme") == 3


def test_cancelled_records_are_listed_with_their_reason(api_a):
    reminder("acme")
    api_a.post("/events/cancel", {"cancel_key": "appt-1"})

    listed = api_a.get("/records?status=cancelled").json()["items"]

    assert len(listed) == 3 and {(r["status"], r["reason"]) for r in listed} == {("cancelled", "cancelled")}
    assert api_a.get("/records?status=scheduled").json()["items"] == []
