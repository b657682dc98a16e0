"""The operator dashboard's data (notifications/web/views.py): the fan-out panel's rows, from job rows, with the
records of the three newest counted. The page itself is driven in Chromium in tests/browser/test_pages.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.audiences.runner import run_chunk, run_until_idle
from notifications.delivery.models import NotificationRecord
from tests.fanouts import contacts, fanout_to

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(User.objects.create_user("ops", is_staff=True))
    return client


def test_the_dashboard_lists_open_and_last_finished_fanouts_with_their_progress(staff, tenant):
    ids = contacts(tenant, 4)
    finished = [fanout_to(ids) for _ in range(6)]
    run_until_idle()
    running = fanout_to(ids)
    run_chunk(running.pk, size=1)
    waiting = fanout_to([*ids, "nobody"])

    with CaptureQueriesContext(connection) as queries:
        answer = staff.get("/dashboard/data")
    assert answer.status_code == 200
    rows = answer.json()["fanouts"]
    newest = [job.pk for job in reversed(finished)][:5]
    assert [row["id"] for row in rows] == [waiting.pk, running.pk, *newest]
    assert [row["state"] for row in rows] == ["pending", "running"] + ["done"] * 5
    assert (rows[0]["total"], rows[0]["written"], rows[0]["percent"]) == (5, 0, 0.0)
    assert (rows[1]["written"], rows[1]["percent"]) == (1, 25.0)
    newest_done = rows[2]
    records = NotificationRecord.objects.filter(event_id=newest_done["event_id"])
    assert (newest_done["records"], newest_done["percent"]) == (records.count(), 100.0)
    assert newest_done["waiting"] == records.filter(status="pending").count() > 0
    assert newest_done["skipped"] == {"no_address": 4}  # no push device
    assert [row["sent"] is None for row in rows] == [False] * 3 + [True] * 4  # records counted for three only
    fanout_sql = [q["sql"] for q in queries.captured_queries if "fanout" in q["sql"]]
    assert len(fanout_sql) == 2 and not any("recipients" in sql for sql in fanout_sql)
    record_sql = [q["sql"] for q in queries.captured_queries if '"event_id" IN' in q["sql"]]
    assert len(record_sql) == 1


def test_the_dashboard_page_has_the_fanout_panel_and_needs_staff(staff, client):
    page = staff.get("/dashboard/")
    assert page.status_code == 200 and b'id="fanouts"' in page.content
    staff.logout()
    assert staff.get("/dashboard/data").status_code == 302


def test_the_windows_chart_reasons_and_withheld_come_from_the_hourly_counts(staff, tenant):
    """Sent and failed by hour and channel, failure reasons, and cancellation reasons: summed from one read of
    the window's hourly counts (observability/record_counts.py), never from the records; records older than the
    window are left out; the latest failures listed."""
    from datetime import timedelta

    from django.utils import timezone

    from notifications.events.registry import event_registry
    from notifications.testing import make_event

    event_registry.process_events([make_event("user.login.failed", user_id=f"u{n}") for n in range(6)])
    sms = NotificationRecord.objects.filter(channel="sms").order_by("pk")
    ids = list(sms.values_list("pk", flat=True))
    NotificationRecord.objects.filter(pk__in=ids[:3]).update(status="failed", reason="twilio_21211")
    NotificationRecord.objects.filter(pk__in=ids[3:4]).update(status="failed", reason="twilio_30003")
    NotificationRecord.objects.filter(pk__in=ids[4:5]).update(status="sent")
    NotificationRecord.objects.filter(pk__in=ids[5:6]).update(status="cancelled", reason="superseded")
    NotificationRecord.objects.filter(channel="email").update(status="sent")
    NotificationRecord.objects.filter(pk=ids[0]).update(created_at=timezone.now() - timedelta(days=3))  # outside

    with CaptureQueriesContext(connection) as queries:
        data = staff.get("/dashboard/data?hours=24").json()

    window = [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]
    assert len(window) == 2 and "recordcount" in window[0] and "scheduled" in window[1]  # the waiting panel
    totals: dict[tuple[str, str], int] = {}
    for point in data["series"]:
        key = (point["channel"], point["status"])
        totals[key] = totals.get(key, 0) + point["count"]
    assert totals == {("sms", "failed"): 3, ("sms", "sent"): 1, ("email", "sent"): 6}
    assert data["reasons"] == [{"reason": "twilio_21211", "count": 2}, {"reason": "twilio_30003", "count": 1}]
    assert data["withheld"] == [{"reason": "superseded", "count": 1}]
    assert {row["id"] for row in data["failures"]} == set(ids[:4])
