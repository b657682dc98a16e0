from __future__ import annotations

import pytest
from django.core import mail

from notifications.enums import Outcome, RejectionReason
from notifications.events.base_handler import BaseEventHandler
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.models import Tenant
from notifications.testing import EXAMPLE_PAYLOADS, make_event

pytestmark = pytest.mark.django_db

GOOD = make_event("task.assigned")


def test_a_handler_bug_becomes_a_processing_error_not_a_crash(tenant):
    class Broken(BaseEventHandler):
        event_types = ("broken.event",)

        def get_channels(self, event_type, payload):
            raise RuntimeError("bug in a custom handler")

    handler = event_registry.register(Broken())
    try:
        results = process_events([{**GOOD, "event_type": "broken.event"}, GOOD])
    finally:
        event_registry.unregister_handler(handler)

    assert results[0].reason == RejectionReason.PROCESSING_ERROR
    assert "RuntimeError" in results[0].detail
    assert results[1].outcome == Outcome.PROCESSED
    assert RejectedEvent.objects.get().reason == "processing_error"
    assert Event.objects.count() == 1


def test_unknown_tenant_is_processed_with_defaults(deliver):
    result = event_registry.process_event(make_event("user.registration.completed", "your-tenant-id"))
    deliver()

    assert result.outcome == Outcome.PROCESSED
    tenant = Tenant.objects.get(id="your-tenant-id")
    assert tenant.name == "your-tenant-id" and tenant.settings == {}
    assert "Welcome to your-tenant-id" in mail.outbox[0].subject


def test_batch_intake_queries_do_not_grow_per_event(db, django_assert_max_num_queries):
    types = sorted(EXAMPLE_PAYLOADS)

    def batch(n: int, offset: int) -> list[dict]:
        return [make_event(types[i % len(types)], user_id=f"user-{offset + i}") for i in range(n)]

    process_events(batch(10, 0))  # warm-up: the tenant exists
    # A constant: COPY staging on PostgreSQL adds a few, and the planner settings around the three statements by
    # key (db/plans.py BY_KEY: secrets purge, supersede, the events' payload update) three each.
    with django_assert_max_num_queries(27):
        process_events(batch(11, 100))
    # 400 events make ~1,100 records; only bulk statements split by the database's parameter limit remain (the
    # records' `route` column, notifications/rules, made one more split on SQLite; the dedupe keys' own insert,
    # issue 20, one more; their `rate_counted` column, migration 0021, one more).
    with django_assert_max_num_queries(44):
        process_events(batch(400, 1000))
    assert Event.objects.count() == 421
