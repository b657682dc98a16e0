"""A fan-out's progress: the job's own counts while it runs, its records' outcome from one GROUP BY, and lists that
read job rows only (never the recipient list, never the records)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.audiences.models import FanOut, FanOutState, Topic
from notifications.audiences.progress import (
    fanout_status,
    fanouts,
    open_and_finished,
    recent_fanouts,
    with_record_counts,
)
from notifications.audiences.runner import run_chunk, run_until_idle
from notifications.delivery.models import NotificationRecord
from notifications.enums import SkipReason, Status
from notifications.intake.service import process_events
from notifications.tenants.models import Tenant
from tests.fanouts import audience_event, contacts, fanout_to

pytestmark = pytest.mark.django_db

FIELDS = {"id", "tenant_id", "event_id", "event_type", "audience", "topic_key", "state", "total", "written",
          "percent", "records", "skipped", "error", "created_at", "started_at", "finished_at"}
COUNTS = {"sent", "failed", "cancelled", "waiting"}


def test_a_recorded_job_has_its_total_and_nothing_written(tenant):
    job = fanout_to(contacts(tenant, 3))
    status = fanout_status(job)
    assert set(status) == FIELDS | COUNTS
    assert (status["state"], status["total"], status["written"], status["percent"]) == ("pending", 3, 0, 0.0)
    assert (status["records"], status["skipped"], status["started_at"], status["finished_at"]) == (0, {}, None, None)
    assert [status[name] for name in sorted(COUNTS)] == [0, 0, 0, 0]
    assert status["event_id"] == str(job.event_id) and status["audience"] == "recipients"


def test_percent_is_unknown_until_the_first_chunk_counts_a_topic(tenant):
    ids = contacts(tenant, 4)
    topic = Topic.objects.create(tenant=tenant, key="project-42")
    topic.subscriptions.bulk_create([topic.subscriptions.model(topic=topic, user_id=i) for i in ids])
    result = process_events([audience_event(to_topic="project-42")])[0]
    job = FanOut.objects.get(pk=result.fanout_id)
    assert (fanout_status(job)["total"], fanout_status(job)["percent"]) == (None, None)

    run_chunk(size=3)
    job.refresh_from_db()
    status = fanout_status(job)
    assert (status["state"], status["total"], status["written"], status["percent"]) == ("running", 4, 3, 75.0)
    assert status["topic_key"] == "project-42" and status["started_at"] is not None


def by_status(job: FanOut) -> dict[str, int]:
    rows = NotificationRecord.objects.filter(event_id=job.event_id).values_list("status", flat=True)
    return {status: list(rows).count(status) for status in Status}


def test_a_finished_job_counts_its_records_by_outcome(tenant, deliver):
    ids = contacts(tenant, 5)
    job = fanout_to([*ids, "nobody"])
    run_until_idle(size=2)
    job.refresh_from_db()
    before = fanout_status(job)
    assert (before["state"], before["written"], before["percent"]) == ("done", 6, 100.0)
    assert before["records"] == NotificationRecord.objects.filter(event_id=job.event_id).count()
    reasons = NotificationRecord.objects.filter(event_id=job.event_id, status=Status.SKIPPED).values_list(
        "reason", flat=True)
    assert before["skipped"] == {reason: list(reasons).count(reason) for reason in set(reasons)}
    assert before["skipped"][SkipReason.UNKNOWN_RECIPIENT] >= 1
    counts = by_status(job)
    assert before["waiting"] == counts["pending"] >= 5 and before["sent"] == counts["sent"]

    deliver()
    emails = NotificationRecord.objects.filter(event_id=job.event_id, channel="email", user_id__in=ids)
    emails.filter(user_id=ids[0]).update(status=Status.FAILED)
    emails.filter(user_id=ids[1]).update(status=Status.CANCELLED)
    emails.filter(user_id=ids[2]).update(status=Status.SCHEDULED)
    emails.filter(user_id=ids[3]).update(status=Status.RETRYING)
    after, counts = fanout_status(job), by_status(job)
    assert (after["failed"], after["cancelled"], after["waiting"]) == (1, 1, 2)
    assert after["sent"] == counts["sent"] == 1 + 5  # one e-mail and the in-app messages
    assert after["finished_at"] is not None and after["error"] == ""


def test_status_is_one_query_over_the_records_and_lists_read_job_rows_only(tenant, django_assert_num_queries):
    job = fanout_to(contacts(tenant, 3))
    run_until_idle()
    job = fanouts("acme").get(pk=job.pk)
    with CaptureQueriesContext(connection) as status_queries:
        fanout_status(job)
    [sql] = [q["sql"] for q in status_queries.captured_queries]
    assert "GROUP BY" in sql and "notificationrecord" in sql
    with CaptureQueriesContext(connection) as list_queries:
        assert recent_fanouts("acme")[0]["written"] == 3
        open_and_finished()
    assert len(list_queries.captured_queries) == 3
    assert all("recipients" not in q["sql"] and "notificationrecord" not in q["sql"]
               for q in list_queries.captured_queries)


def test_recent_fanouts_are_the_tenants_newest_first_and_page_on(tenant):
    Tenant.objects.create(id="globex", name="Globex")
    ids = contacts(tenant, 2)
    mine = [fanout_to(ids[:1]) for _ in range(3)]
    contacts("globex", 1)
    theirs = fanout_to(["user-00000"], tenant_id="globex")

    assert [row["id"] for row in recent_fanouts("acme")] == [job.pk for job in reversed(mine)]
    assert [row["id"] for row in recent_fanouts("globex")] == [theirs.pk]
    assert len(recent_fanouts()) == 4 and len(recent_fanouts(limit=2)) == 2
    first = recent_fanouts("acme", limit=2)
    rest = recent_fanouts("acme", limit=2, before=(first[-1]["created_at"], first[-1]["id"]))
    assert [row["id"] for row in first + rest] == [job.pk for job in reversed(mine)]


def test_the_dashboard_lists_open_jobs_and_the_last_finished_and_counts_records_of_five(tenant):
    ids = contacts(tenant, 1)
    finished = [fanout_to(ids) for _ in range(7)]
    run_until_idle()
    waiting = fanout_to(ids)
    rows = open_and_finished(finished=5)
    newest = [job.pk for job in reversed(finished)][:5]
    assert [row["id"] for row in rows] == [waiting.pk, *newest]
    assert rows[0]["state"] == FanOutState.PENDING and {row["state"] for row in rows[1:]} == {"done"}

    with CaptureQueriesContext(connection) as queries:
        counted = with_record_counts(rows, most=3)
    assert len(queries.captured_queries) == 1
    assert [row["waiting"] is not None for row in counted] == [True, True, True, False, False, False]
    assert counted[0]["waiting"] == 0  # the pending job has no records yet
    assert counted[1]["waiting"] == by_status(finished[-1])["pending"] > 0


def test_a_count_over_its_budget_is_given_up_and_the_connection_goes_on():
    from django.db import connection

    from notifications.audiences import progress

    if connection.vendor != "postgresql":
        pytest.skip("statement_timeout is PostgreSQL's")

    def slow() -> dict:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(1)")
        return {"counted": {}}

    assert progress._within(50, slow) == {}
    assert progress._within(None, lambda: {"counted": {}}) == {"counted": {}}
    assert progress._within(500, lambda: {"counted": {}}) == {"counted": {}}
    with connection.cursor() as cursor:  # the timeout was the transaction's own
        cursor.execute("SELECT current_setting('statement_timeout')")
        assert cursor.fetchone()[0] == "0"
