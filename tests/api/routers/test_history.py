"""GET /api/v1/history/export: the calling tenant's history only, streamed, secrets masked."""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

RANGE = "since=2000-01-01T00:00:00Z&until=2100-01-01T00:00:00Z"


def _body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_jsonl_export_is_the_callers_own_and_masks_secrets(api_a, api_b):
    event_registry.process_events([make_event("auth.2fa.code.requested", code="918273"),
                                   make_event("user.login.succeeded", tenant_id="globex")])
    response = api_a.get(f"/history/export?{RANGE}")
    assert response["Content-Type"] == "application/x-ndjson"
    assert response["Content-Disposition"].startswith('attachment; filename="history-20000101T000000Z-')
    body = _body(response)
    rows = [orjson.loads(line) for line in body.splitlines()]
    assert {row["tenant_id"] for row in rows} == {"acme"} and rows[0]["event_type"] == "auth.2fa.code.requested"
    assert b"918273" not in body

    theirs = [orjson.loads(line) for line in _body(api_b.get(f"/history/export?{RANGE}")).splitlines()]
    assert {row["tenant_id"] for row in theirs} == {"globex"}
    assert not any(row.get("event") == rows[0]["event"] for row in theirs)


def test_csv_and_type_filter(api_a):
    event_registry.process_events([make_event("task.assigned"), make_event("user.login.succeeded")])
    body = _body(api_a.get(f"/history/export?{RANGE}&format=csv&event_type=task.assigned")).decode()
    table = list(csv.DictReader(io.StringIO(body)))
    assert {row["event_type"] for row in table if row["kind"] == "event"} == {"task.assigned"}


@pytest.mark.parametrize(("query", "status"), [
    ("since=2100-01-01T00:00:00Z&until=2000-01-01T00:00:00Z", 422),
    ("since=yesterday", 422),
    (f"{RANGE}&format=parquet", 422),
    ("since=0001-01-01T00:00:00Z&until=2000-01-01T00:00:00Z", 422),
])
def test_bad_queries_are_refused(api_a, query, status):
    response = api_a.get(f"/history/export?{query}")
    assert response.status_code == status, response.content


def test_without_a_range_everything_up_to_now(api_a):
    event_registry.process_event(make_event("task.assigned"))
    rows = [orjson.loads(line) for line in _body(api_a.get("/history/export")).splitlines()]
    assert [row["kind"] for row in rows].count("event") == 1


def test_too_many_types_are_refused_in_the_api_error_shape(api_a):
    assert api_a.get("/history/export?" + "&".join(["event_type=a.b"] * 101)).status_code == 422
    response = api_a.get("/history/export?" + "&".join(["event_type=a.b"] * 1001))
    assert response.status_code == 422 and "more than 1000 query parameters" in response.json()["detail"]


def test_without_a_key_nothing(db):
    from django.test import Client

    assert Client().get(f"/api/v1/history/export?{RANGE}").status_code == 401


def test_under_asgi_the_export_is_sent_piece_by_piece(api_a, monkeypatch):
    """Django's ASGI handler gathers a plain generator into a list before sending anything (a million rows in
    memory): the endpoint hands ASGI an async iterator, made a piece at a time."""
    import warnings

    from asgiref.sync import async_to_sync
    from django.test import AsyncClient

    from notifications.history import formats

    monkeypatch.setattr(formats, "PIECE", 256)  # several pieces from a few events
    event_registry.process_events([make_event("task.assigned", task_id=f"T-{i}") for i in range(5)])

    async def fetch():
        key = api_a.headers["HTTP_X_API_KEY"]
        response = await AsyncClient().get(f"/api/v1/history/export?{RANGE}", headers={"X-API-Key": key})
        if not response.streaming:
            raise AssertionError((response.status_code, response.content[:300]))
        return response, [piece async for piece in response.streaming_content]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "must consume synchronous iterators" would fail here
        response, pieces = async_to_sync(fetch)()
    assert response.status_code == 200 and response.is_async and len(pieces) > 2
    rows = [orjson.loads(line) for line in b"".join(pieces).splitlines()]
    assert [row["kind"] for row in rows].count("event") == 5
