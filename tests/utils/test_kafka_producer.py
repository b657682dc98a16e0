from __future__ import annotations

import asyncio
from datetime import datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from notifications.enums import Outcome
from notifications.models import Event, NotificationRecord
from notifications.testing import make_event
from notifications.utils.kafka_producer import publish_event, publish_event_sync


@pytest.mark.django_db(transaction=True)
def test_guides_publish_event_feeds_local_intake_without_kafka(tenant):
    tenant_id = tenant.id

    async def auth_service() -> None:
        await publish_event('billing-events', {
            'event_type': 'invoice.payment.failed',
            'tenant_id': tenant_id,
            'timestamp': datetime.utcnow().isoformat(),
            'payload': {
                'user_id': str(42),
                'invoice_id': 1001,
                'amount': float("19.99"),
                'currency': 'EUR',
                'failure_reason': 'insufficient_funds',
                'next_retry_date': datetime(2026, 12, 1).isoformat(),
                'payment_method': 'credit_card'
            }
        })
        # The guide's caller is async: Django ran intake in asgiref's worker thread; close its connection.
        await sync_to_async(connections.close_all)()

    asyncio.run(auth_service())

    event = Event.objects.get()
    assert (event.event_type, event.user_id, event.source) == ("invoice.payment.failed", "42", "billing-events")
    assert NotificationRecord.objects.filter(event=event).count() == 3


@pytest.mark.django_db
def test_publish_event_sync_serialises_datetimes(tenant):
    event = make_event("task.assigned")
    event["timestamp"] = datetime(2026, 11, 23, 9, 30)
    event["payload"]["due_date"] = datetime(2026, 11, 30, 17, 0)

    result = publish_event_sync("hr-events", event)

    assert result is not None and result.outcome == Outcome.PROCESSED
    stored = Event.objects.get()
    assert stored.occurred_at.isoformat() == "2026-11-23T09:30:00+00:00"
    assert stored.payload["due_date"] == "2026-11-30T17:00:00"  # naive stays naive; rendering reads UTC
