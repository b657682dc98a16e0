"""notifications/digests/sweep.py: a window whose digest record was cancelled (its event's cancel key) before
the close still sends one digest of the records left; a late digest record is not replaced."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from notifications.channels.models import InAppMessage
from notifications.delivery.engine import DeliveryEngine
from notifications.delivery.models import NotificationRecord
from notifications.digests.models import DigestWindow
from notifications.digests.sweep import GRACE, promote_orphans
from notifications.enums import Status
from notifications.intake.service import process_events
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def liked(by):
    event = make_event("content.liked", liked_by=by, content_title=None, like_count=None)
    return {**event, "event_id": str(uuid.uuid4())}


@pytest.fixture
def digesting(tenant):
    tenant.settings = {**tenant.settings, "digests": {"content.liked": {"in_app": {"window_seconds": 600}}},
                       "disabled_channels": {"content.liked": ["push"]}}
    tenant.save()
    return tenant


def in_app():
    return list(NotificationRecord.objects.filter(channel="in_app").order_by("pk"))


def test_a_window_whose_digest_record_was_cancelled_sends_the_rest(digesting):
    with time_machine.travel(NOW, tick=False) as clock:
        process_events([liked("Jane"), liked("Bob"), liked("Carol")])
        digest = in_app()[0]
        NotificationRecord.objects.filter(pk=digest.pk).update(status=Status.CANCELLED, reason="cancelled")
        clock.move_to(NOW + timedelta(minutes=10) + GRACE - timedelta(seconds=1))
        assert promote_orphans(NOW + timedelta(minutes=10) + GRACE - timedelta(seconds=1)) == 0  # not yet
        clock.move_to(NOW + timedelta(minutes=10) + GRACE)
        engine = DeliveryEngine()
        assert engine.deliver_due().claimed == 0  # idle: the sweep promotes Bob's record
        engine.deliver_due()
    [message] = InAppMessage.objects.all()
    assert message.title == "Bob and 1 other liked your post"
    _, bob, carol = in_app()
    assert (bob.status, carol.reason) == (Status.SENT, f"digested_into:{bob.pk}")
    assert DigestWindow.objects.get().digest_record_id == bob.pk


def test_a_late_digest_record_is_not_replaced_and_an_empty_window_is_finished(digesting):
    with time_machine.travel(NOW, tick=False):
        process_events([liked("Jane"), liked("Bob")])
        late = NOW + timedelta(hours=1)
        assert promote_orphans(late) == 0  # the digest record still has its due time: only late
        assert [r.next_attempt_at for r in in_app()] == [NOW + timedelta(minutes=10), None]
        NotificationRecord.objects.filter(channel="in_app").update(status=Status.CANCELLED)
        assert promote_orphans(late) == 0
        window = DigestWindow.objects.get()
        assert (window.state, window.count) == ("digested", 0)
