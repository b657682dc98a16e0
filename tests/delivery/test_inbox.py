"""notifications/delivery/inbox.py: scheduled in-app records are delivered by the worker when due, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from notifications.channels.models import InAppMessage
from notifications.delivery.batch import load_batch
from notifications.delivery.claims import claim_due
from notifications.delivery.compose import message_for
from notifications.delivery.inbox import deliver_inbox
from notifications.delivery.models import NotificationRecord
from notifications.delivery.report import DeliveryReport
from notifications.intake.service import process_events
from notifications.rendering.service import Renderer
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_a_record_whose_claim_another_worker_took_over_gets_no_inbox_row_from_this_one(tenant):
    with time_machine.travel(NOW, tick=False) as clock:
        process_events([{**make_event("content.liked", user_id="u-9"), "delay": 60}])
        clock.shift(timedelta(seconds=61))
        mine, theirs = uuid.uuid4(), uuid.uuid4()
        ids = claim_due(10, datetime.now(UTC), mine)
        batch = load_batch(ids)
        in_app = [record for record in batch.records if record.channel == "in_app"]
        assert len(in_app) == 1
        renderer = Renderer({record.tenant_id for record in in_app})
        ready = [(record, message_for(record, batch, renderer)) for record in in_app]
        # The lease ran out and another worker claimed the record: it is theirs to deliver.
        NotificationRecord.objects.filter(pk__in=ids).update(claim_token=theirs)

        deliver_inbox(ready, batch, DeliveryReport(), mine, datetime.now(UTC))
        assert not InAppMessage.objects.exists()
        assert NotificationRecord.objects.get(pk=in_app[0].pk).status == "sending"

        deliver_inbox(ready, batch, DeliveryReport(), theirs, datetime.now(UTC))
        assert InAppMessage.objects.filter(record_id=in_app[0].pk).count() == 1
        assert NotificationRecord.objects.get(pk=in_app[0].pk).status == "sent"
