"""notifications/delivery/claims.py: due records claimed under a lease, oldest first, by the due index."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from notifications.delivery.claims import CLAIM_PLAN_SETTINGS, claim_due, claim_statement, due_records
from notifications.delivery.engine import deliver_due
from notifications.enums import Status
from notifications.events.registry import event_registry
from notifications.models import Event, NotificationRecord
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_expired_lease_is_reclaimed(tenant):
    event_registry.process_event(make_event("user.login.succeeded"))
    NotificationRecord.objects.update(status=Status.SENDING, next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert deliver_due().claimed == 0

    NotificationRecord.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert deliver_due().sent == 1


def test_claims_take_the_oldest_due_first_and_never_the_same_record_twice(tenant):
    for n in range(6):
        event_registry.process_event(make_event("user.login.succeeded", user_id=f"claim-{n}"))
    records = list(NotificationRecord.objects.filter(channel="email").order_by("pk"))
    now = timezone.now()
    for age, record in enumerate(records):  # the last record written is the oldest due
        NotificationRecord.objects.filter(pk=record.pk).update(next_attempt_at=now - timedelta(minutes=age + 1))
    NotificationRecord.objects.exclude(channel="email").update(status=Status.SKIPPED)

    first = claim_due(2, now)
    second = claim_due(10, now)
    assert sorted(first) == sorted(r.pk for r in records[-2:])
    assert sorted(second) == sorted(r.pk for r in records[:-2])
    assert claim_due(10, now) == []
    claimed = NotificationRecord.objects.filter(pk__in=first + second)
    assert {r.status for r in claimed} == {Status.SENDING} and all(r.next_attempt_at > now for r in claimed)
    assert len({r.claim_token for r in claimed}) == 2


def test_the_claim_query_can_use_the_partial_due_index(db):
    """record_due_idx indexes open records only; if claim_due()'s status list and the index's condition drifted
    apart, every claim would scan the whole table."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL plan")
    query = due_records(timezone.now()).values_list("id", flat=True)[:100]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # an empty table: make the planner show what it can use
        plan = query.explain()
    assert "record_due_idx" in plan


def test_claims_walk_the_due_index_in_order_never_a_bitmap_of_it(db):
    """Every delivered record leaves dead entries in record_due_idx until vacuum. An ordered index scan marks
    each once and skips it afterwards; a bitmap scan, which the planner picks for a table it has no statistics
    for, visits all their rows on every claim."""
    from django.db import connection, transaction

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL plan")
    sql, params = claim_statement(1000, timezone.now(), uuid.uuid4())
    with transaction.atomic(), connection.cursor() as cursor:
        # A table as a new deployment's first minute has it: thousands of records sent, a few due, no statistics.
        cursor.execute(
            "INSERT INTO notifications_notificationrecord (tenant_id, event_id, event_type, user_id, channel, "
            "recipient, status, reason, error_detail, provider, provider_message_id, attempts, next_attempt_at, "
            "created_at, updated_at) SELECT 'acme', gen_random_uuid(), 'task.assigned', 'u' || n, 'email', "
            "'u' || n || '@example.com', CASE WHEN n % 200 = 0 THEN 'pending' ELSE 'sent' END, '', '', '', '', 0, "
            "CASE WHEN n % 200 = 0 THEN now() END, now(), now() FROM generate_series(1, 20000) AS n")
        cursor.execute("EXPLAIN " + sql, params)
        unsteered = "\n".join(row[0] for row in cursor.fetchall())
        cursor.execute(CLAIM_PLAN_SETTINGS)
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan using record_due_idx" in plan and "Bitmap" not in plan
    if "Bitmap Index Scan on record_due_idx" not in unsteered:  # server settings (random_page_cost) or statistics
        pytest.skip("this server's planner reads the due index in order by itself here")


def test_the_claim_steers_its_plan_and_leaves_the_callers_settings_alone(tenant):
    """claim_due() issues the plan settings before its UPDATE, in its own transaction; inside a caller's
    transaction (a savepoint, whose release would keep them) it puts the caller's values back."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL plan settings")
    event_registry.process_event(make_event("task.assigned"))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the caller's own choice, kept
        with CaptureQueriesContext(connection) as queries:
            claimed = claim_due(10, timezone.now())
        cursor.execute("SELECT current_setting('enable_bitmapscan'), current_setting('enable_seqscan')")
        assert cursor.fetchone() == ("on", "off")
    sending = NotificationRecord.objects.filter(status=Status.SENDING).values_list("id", flat=True)
    assert claimed and set(claimed) == set(sending)
    sql = [query["sql"] for query in queries.captured_queries]
    steer = next(i for i, text in enumerate(sql) if "set_config('enable_bitmapscan', 'off', true)" in text)
    update = next(i for i, text in enumerate(sql) if text.startswith("UPDATE"))
    assert steer < update


def test_the_normal_lane_is_claimed_first_and_the_bulk_lane_in_small_claims(tenant):
    from notifications.delivery.batch import load_batch
    from notifications.enums import Lane

    event = Event.objects.create(tenant=tenant, event_type="task.assigned", dedupe_key="lanes",
                                 occurred_at=timezone.now())
    now = timezone.now()
    earlier = now - timedelta(minutes=5)

    def record(user: str, lane: int, due: Any) -> NotificationRecord:
        return NotificationRecord.objects.create(tenant=tenant, event=event, event_type="task.assigned",
                                                 user_id=user, channel="email", recipient=f"{user}@example.com",
                                                 status="pending", next_attempt_at=due, lane=lane)

    bulk = [record(f"b{i}", Lane.BULK, earlier) for i in range(6)]  # due first, but bulk
    code = record("u-2fa", Lane.NORMAL, now)
    ids = claim_due(5, now, bulk=2)
    assert code.pk in ids and len(ids) == 3  # the normal record, then at most two bulk ones
    assert set(ids) - {code.pk} <= {r.pk for r in bulk}
    assert load_batch(ids).records[0].pk == code.pk  # sent first within its claim
    assert len(claim_due(5, now, bulk=2)) == 2  # a bulk-only backlog: claims of two
