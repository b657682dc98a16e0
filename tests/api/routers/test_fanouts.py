"""The fan-out endpoints: the tenant's jobs newest first in cursor pages, one job's status with its records'
outcome, the event's fan-out, and isolation between tenants (another tenant's job is a 404, never listed)."""

from __future__ import annotations

import base64

import pytest

from notifications.audiences.runner import run_until_idle
from notifications.delivery.models import NotificationRecord
from notifications.enums import Status
from notifications.testing import make_event
from tests.fanouts import audience_event, contacts, fanout_to
from tests.helpers import error_detail

pytestmark = pytest.mark.django_db

ITEM = {"id", "event_id", "event_type", "audience", "topic_key", "state", "total", "written", "percent", "records",
        "skipped", "error", "created_at", "started_at", "finished_at"}


def walk(client, limit: int) -> tuple[list[dict], int]:
    items, cursor, pages = [], None, 0
    while True:
        answer = client.get(f"/fanouts?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status_code == 200, answer.content
        items += answer.json()["items"]
        pages += 1
        cursor = answer.json()["next_cursor"]
        if cursor is None:
            return items, pages


def test_a_fanout_posted_through_the_api_shows_its_progress(api_a, tenant):
    ids = contacts(tenant, 3)
    posted = api_a.post("/events", audience_event(recipients=[*ids, "nobody"]))
    assert posted.status_code == 200, posted.content
    result = posted.json()["results"][0]
    assert result["outcome"] == "processed" and result["records"] == []  # the runner writes them
    event_id = result["event_id"]

    fanout_id = result["fanout_id"]
    pending = api_a.get(f"/fanouts/{fanout_id}").json()
    assert api_a.get(f"/events/{event_id}/fanout").json() == pending and pending["id"] == fanout_id
    assert set(pending) == ITEM | {"sent", "failed", "cancelled", "waiting"}
    assert (pending["state"], pending["total"], pending["written"], pending["percent"]) == ("pending", 4, 0, 0.0)
    assert pending["event_id"] == event_id and pending["audience"] == "recipients"

    run_until_idle()
    done = api_a.get(f"/fanouts/{fanout_id}").json()
    records = NotificationRecord.objects.filter(event_id=event_id)
    assert (done["state"], done["written"], done["percent"], done["records"]) == ("done", 4, 100.0, records.count())
    assert done["skipped"]["unknown_recipient"] == records.filter(user_id="nobody").count() > 0
    assert done["waiting"] == records.filter(status=Status.PENDING).count() > 0
    assert done["sent"] == done["failed"] == done["cancelled"] == 0
    assert api_a.get(f"/events/{event_id}/fanout").json() == done
    assert api_a.get("/fanouts").json()["items"][0]["state"] == "done"


def test_the_list_is_the_tenants_jobs_newest_first_in_pages(api_a, tenant):
    ids = contacts(tenant, 2)
    jobs = [fanout_to(ids) for _ in range(5)]
    run_until_idle()
    items, pages = walk(api_a, limit=2)
    assert [item["id"] for item in items] == [job.pk for job in reversed(jobs)] and pages == 3
    assert set(items[0]) == ITEM and items[0]["written"] == 2  # no record counts in a list
    assert api_a.get("/fanouts").json()["next_cursor"] is None


def test_another_tenants_fanout_is_neither_listed_nor_readable(api_a, api_b, tenant):
    job = fanout_to(contacts(tenant, 1))
    contacts("globex", 1, prefix="theirs")
    theirs = fanout_to(["theirs-00000"], tenant_id="globex")

    assert [item["id"] for item in api_b.get("/fanouts").json()["items"]] == [theirs.pk]
    assert [item["id"] for item in api_a.get("/fanouts").json()["items"]] == [job.pk]
    for path in (f"/fanouts/{job.pk}", f"/events/{job.event_id}/fanout"):
        assert api_b.get(path).status_code == 404
        assert api_a.get(path).status_code == 200
    assert api_a.get(f"/fanouts/{theirs.pk}").status_code == 404


def test_unknown_ids_events_without_a_fanout_and_bad_inputs(api_a, tenant):
    plain = api_a.post("/events", make_event("task.assigned")).json()["results"][0]
    assert plain["outcome"] == "processed" and plain["fanout_id"] is None
    assert api_a.get(f"/events/{plain['event_id']}/fanout").status_code == 404
    assert api_a.get("/fanouts/999999").status_code == 404
    assert api_a.get("/fanouts/0").status_code == 422
    assert api_a.get("/fanouts/99999999999999999999999").status_code in (404, 422)
    assert "event_id" in error_detail(api_a.get("/events/not-a-uuid/fanout"))
    assert api_a.get("/fanouts?limit=0").status_code == 422
    assert api_a.get("/fanouts?limit=101").status_code == 422
    for cursor in ("%%%", "bm90LWEtY3Vyc29y", base64.urlsafe_b64encode(b"2026-01-01T00:00:00|1").decode(),
                   base64.urlsafe_b64encode(b"2026-01-01T00:00:00+00:00|0").decode(), "x" * 65):
        answer = api_a.get(f"/fanouts?cursor={cursor}")
        assert answer.status_code == 422, (cursor, answer.content)
        assert "cursor" in error_detail(answer)


def test_the_api_needs_a_key(client, db):
    assert client.get("/api/v1/fanouts").status_code == 401
    assert client.get("/api/v1/fanouts/1").status_code == 401
