"""notifications/digests/sweep.py: a window whose digest record was cancelled (its event's cancel key) before
the close still sends one digest of the records left, found behind any number of windows whose digest record is
only late, and held by the recipient's quiet hours; a late or claimed digest record is not replaced."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from notifications.channels.models import InAppMessage
from notifications.delivery.claims import claim_due
from notifications.delivery.engine import DeliveryEngine
from notifications.delivery.models import NotificationRecord
from notifications.digests import sweep
from notifications.digests.models import DigestWindow
from notifications.digests.sweep import GRACE, promote_orphans
from notifications.enums import Status
from notifications.intake.service import process_events
from notifications.scheduling.cancel import cancel
from notifications.testing import make_event
from tests.helpers import plan_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def liked(by, **fields):
    event = make_event("content.liked", liked_by=by, content_title=None, like_count=None)
    return {**event, "event_id": str(uuid.uuid4()), **fields}


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


def test_an_orphan_is_found_behind_more_late_windows_than_a_batch(digesting, monkeypatch):
    monkeypatch.setattr(sweep, "BATCH", 3)
    with time_machine.travel(NOW, tick=False):  # five windows closing first, their digest records only late
        process_events([liked(name, user_id=f"late-{n}") for n in range(5) for name in ("Jane", "Bob")])
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        process_events([liked("Ann", user_id="orphan", cancel_key="k"), liked("Ben", user_id="orphan")])
        assert cancel("acme", "k") == 1  # the orphan window's digest record
    later = NOW + timedelta(minutes=30)
    assert promote_orphans(later) == 1
    window = DigestWindow.objects.get(user_id="orphan")
    ben = NotificationRecord.objects.get(digest_window=window.pk, status=Status.SCHEDULED)
    assert ben.next_attempt_at == later
    assert promote_orphans(later) == 0  # it has a digest record now


def test_a_promoted_digest_record_waits_for_the_recipients_quiet_hours(tenant):
    tenant.settings = {**tenant.settings, "default_timezone": "Europe/Berlin",
                       "quiet_hours": {"start": "22:00", "end": "07:00", "channels": ["in_app"]},
                       "digests": {"content.liked": {"in_app": {"window_seconds": 600}}},
                       "disabled_channels": {"content.liked": ["push"]}}
    tenant.save()
    with time_machine.travel(NOW, tick=False):  # 10:00 Berlin: the close, 10:10, is not held
        process_events([liked("Jane", cancel_key="k"), liked("Bob")])
        cancel("acme", "k")
    night = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)  # 23:00 Berlin: the sweep finds the orphan in the night
    assert promote_orphans(night) == 1
    bob = in_app()[1]
    assert (bob.status, bob.next_attempt_at) == (Status.SCHEDULED, datetime(2026, 12, 7, 6, 0, tzinfo=UTC))


def test_a_claimed_digest_record_is_not_replaced_when_its_worker_dies_before_the_close(digesting, deliver):
    with time_machine.travel(NOW, tick=False):
        process_events([liked("Jane"), liked("Bob"), liked("Carol")])
    late = NOW + timedelta(minutes=10) + GRACE + timedelta(minutes=1)
    with time_machine.travel(late, tick=False):
        assert len(claim_due(10, late)) == 1  # a worker behind its backlog claims the digest record, then dies
        assert promote_orphans(late) == 0  # claimed (lease running): alive
    with time_machine.travel(late + timedelta(hours=2), tick=False):  # its lease is long over
        assert promote_orphans(late + timedelta(hours=2)) == 0  # still claimed: the lease brings it back
        NotificationRecord.objects.filter(channel="in_app", status=Status.SENDING).update(status=Status.RETRYING)
        assert promote_orphans(late + timedelta(hours=2)) == 0  # retrying: alive too
        deliver()
    [message] = InAppMessage.objects.all()
    assert message.title == "Jane and 2 others liked your post"


def test_the_sweeps_query_reads_the_windows_index_and_looks_up_each_windows_members(digesting):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    plan = plan_of(lambda: sweep._stale(NOW))
    # A look-up per window (a SubPlan on the members' index), not an anti-join over every due record.
    assert "digest_window_undigested_idx" in plan and "SubPlan" in plan, plan
    assert "Index Cond: (digest_window = w.id)" in plan and "record_digest_waiting_idx" in plan, plan
