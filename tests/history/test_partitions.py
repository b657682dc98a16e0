"""history.partitions on PostgreSQL: ranges made ahead and back, a partition boundary crossed in the middle of an
intake batch and of a claim, whole partitions dropped only when nothing in them must live on, and a drop that
gives way to a busy table instead of stalling it. On SQLite nothing is partitioned and these do nothing."""

from __future__ import annotations

import threading
from datetime import timedelta
from itertools import pairwise
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from notifications.channels.models import InAppMessage
from notifications.db import copy as copy_module
from notifications.db import partitioning
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.history import partitions
from notifications.history.retention import prune
from notifications.testing import make_event
from tests.helpers import held_open

pytestmark = pytest.mark.django_db


def _where(model, **filters) -> set[str]:
    """The partitions holding the rows."""
    column = f'"{model._meta.db_table}".tableoid::regclass::text'
    return set(model.objects.filter(**filters).extra(select={"part": column})  # noqa: S610 - a constant
               .values_list("part", flat=True))


def _ranges(model) -> list[str]:
    with connection.cursor() as cursor:
        return [p.name for p in partitioning.partitions(cursor, model._meta.db_table) if not p.is_default]


def test_on_sqlite_nothing_is_partitioned():
    if connection.vendor == "postgresql":
        assert partitions.enabled()
    else:
        assert not partitions.enabled() and partitions.ensure() == [] and list(partitions.droppable()) == []


@pytest.mark.postgres
def test_the_ranges_ahead_and_back_are_made_once():
    now = timezone.now()
    step = partitions.width()
    assert partitions.ensure(now) == []  # the migration made the current one and two ahead

    made = partitions.ensure(now + 3 * step)
    assert len(made) == 3 * len(partitions.TABLES)
    back = partitions.ensure(now, since=now - 2 * step)
    assert len(back) == 2 * len(partitions.TABLES)
    start = partitions.range_start(now - 2 * step)
    assert _ranges(Event)[0] == f"notifications_event_p{start:%Y%m%d}"
    with connection.cursor() as cursor:  # contiguous: each range starts where the one before ends
        ranges = [p for p in partitioning.partitions(cursor, Event._meta.db_table) if not p.is_default]
    assert all(a.upper == b.lower for a, b in pairwise(ranges))
    assert partitions.ensure(now + 3 * step, since=now - 2 * step) == []


@pytest.mark.postgres
def test_a_boundary_crossed_between_an_intake_batch_s_events_and_its_records(tenant, deliver, monkeypatch, api_a,
                                                                            api_b):
    """The batch's events are written just before a range ends and its records just after (the COPYs read the
    clock in turn): every event keeps its records, the batch is delivered in one claim, a redelivery is a
    duplicate across the boundary, and the API's reads by time find them on their side of it (the tenant's
    own only)."""
    boundary = partitions.range_start(timezone.now()) + partitions.width()
    times = iter([boundary - timedelta(milliseconds=2)] * 2 + [boundary + timedelta(milliseconds=1)] * 50)
    monkeypatch.setattr(copy_module, "timezone", SimpleNamespace(now=lambda: next(times)))
    events = [make_event("task.assigned", user_id=f"u{n}", event_id=f"cross-{n}") for n in range(3)]

    with time_machine.travel(boundary - timedelta(milliseconds=2), tick=False):
        results = event_registry.process_events(events)
    monkeypatch.undo()

    ids = [result.event_id for result in results]
    before = partitions.range_start(boundary - timedelta(days=1))
    assert _where(Event, pk__in=ids) == {f"notifications_event_p{before:%Y%m%d}"}
    assert _where(NotificationRecord, event_id__in=ids) == {f"notifications_notificationrecord_p{boundary:%Y%m%d}"}
    for result in results:
        event = Event.objects.get(pk=result.event_id)
        assert {r.record_id for r in result.records} == set(event.records.values_list("pk", flat=True))
    with time_machine.travel(boundary + timedelta(minutes=1), tick=False):
        sent = deliver()
        again = event_registry.process_events(events)
    assert sent.claimed == NotificationRecord.objects.filter(channel="email").count() == 3
    assert {r.outcome for r in again} == {"duplicate"}
    assert DeliveryAttempt.objects.count() == 3
    records = {r.record_id for result in results for r in result.records}
    hour = timedelta(hours=1)
    around = {"since": (boundary - hour).isoformat(), "until": (boundary + hour).isoformat()}
    listed = api_a.get("/records", data={**around, "limit": 100}).json()["items"]
    assert {row["id"] for row in listed} == records and {row["event_id"] for row in listed} == set(ids)
    before_it = api_a.get("/records", data={"until": boundary.isoformat()}).json()["items"]
    assert before_it == []  # written after the boundary, as their partition says
    assert api_b.get("/records", data=around).json()["items"] == []


def _history_at(moment, deliver, user_id: str, **envelope) -> None:
    with time_machine.travel(moment, tick=False):
        event_registry.process_events([{**make_event("task.assigned", user_id=user_id), **envelope}])
        deliver()


@pytest.mark.postgres
def test_whole_partitions_drop_when_nothing_in_them_must_live_on(tenant, deliver):
    """Two old weeks: one all sent, one with a notification still scheduled. The first week's records, attempts,
    events and inbox messages go as whole partitions; the second's records and events stay (something is still
    waiting there), and their expired final rows wait for the drop rather than going by batch."""
    now = timezone.now()
    step = partitions.width()
    first, second = partitions.range_start(now - timedelta(days=200)), partitions.range_start(now - timedelta(days=190))
    partitions.ensure(now, since=first)
    _history_at(first + timedelta(hours=1), deliver, user_id="old")
    _history_at(second + timedelta(hours=1), deliver, user_id="waiting",
                deliver_at=(second + timedelta(days=60)).isoformat())
    assert NotificationRecord.objects.filter(status="scheduled").count() >= 1

    report = prune(now)

    assert sorted(name for name in report.dropped if name.endswith(f"_p{first:%Y%m%d}")) == [
        f"notifications_{table}_p{first:%Y%m%d}" for table in ("deliveryattempt", "event", "inappmessage",
                                                               "notificationrecord")]
    kept = {table: f"notifications_{table}_p{second:%Y%m%d}" for table in ("event", "notificationrecord")}
    assert not set(kept.values()) & set(report.dropped)
    # Nothing newer than the longest retention went (the empty weeks in between did; the recent ones stay).
    assert all(name[-8:] < f"{now - timedelta(days=90):%Y%m%d}" for name in report.dropped)
    assert f"notifications_notificationrecord_p{partitions.range_start(now):%Y%m%d}" in _ranges(NotificationRecord)
    assert not NotificationRecord.objects.filter(user_id="old").exists()
    assert not Event.objects.filter(user_id="old").exists()
    assert not InAppMessage.objects.filter(user_id="old").exists()
    assert not DeliveryAttempt.objects.filter(started_at__lt=first + step).exists()
    assert f"notifications_notificationrecord_p{second:%Y%m%d}" in _ranges(NotificationRecord)
    assert NotificationRecord.objects.filter(user_id="waiting", status="scheduled").exists()
    assert Event.objects.filter(user_id="waiting").exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_drop_gives_way_to_a_busy_table_and_is_done_next_time(tenant, deliver):
    """A worker's transaction holds the records table: the drop waits LOCK_TIMEOUT_MS at most (intake and the
    workers would queue behind it), is left for the next sweep, and nothing errs; once free, it is done.
    (tests/history/test_retention.py has batches pruned while a worker claims.)"""
    now = timezone.now()
    first = partitions.range_start(now - timedelta(days=200))
    partitions.ensure(now, since=first)
    _history_at(first + timedelta(hours=1), deliver, user_id="old")
    with held_open("SELECT 1 FROM notifications_notificationrecord WHERE false FOR UPDATE"):
        busy = prune(now)
    name = f"notifications_notificationrecord_p{first:%Y%m%d}"
    assert name not in busy.dropped and name in _ranges(NotificationRecord)
    # Its expired rows went by batch meanwhile (a drop overdue by a width leaves them to the batches).
    assert not NotificationRecord.objects.filter(user_id="old").exists()

    free = prune(now)
    assert name in free.dropped and name not in _ranges(NotificationRecord)


@pytest.mark.parametrize("setting", [{"PARTITION_DAYS": 0}, {"PARTITIONS_AHEAD": -1}, {"PARTITION_DAYS": "7"}])
def test_partition_settings_that_would_never_end_a_range_are_refused(settings, setting):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from notifications.errors import NotificationConfigurationError

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, **setting}
    with pytest.raises(NotificationConfigurationError, match=next(iter(setting))):
        partitions.width()
    with pytest.raises(SystemCheckError, match=r"notifications\.E002"):
        call_command("check")


@pytest.mark.postgres
def test_a_worker_makes_the_ranges_ahead_with_pruning_off_and_once_an_hour(settings):
    from django.test.utils import CaptureQueriesContext

    from notifications.history.retention import RetentionSweep

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "RETENTION_INTERVAL_SECONDS": 0}
    tick = [0.0]
    sweep = RetentionSweep(clock=lambda: tick[0])
    later = timezone.now() + 3 * partitions.width()
    with time_machine.travel(later, tick=False):
        assert sweep.sweep() is None  # nothing pruned
        assert f"notifications_event_p{partitions.range_start(later):%Y%m%d}" in _ranges(Event)
        tick[0] = RetentionSweep.PARTITIONS_CHECK_SECONDS - 1
        with CaptureQueriesContext(connection) as seen:
            sweep.sweep()
        assert len(seen) == 0  # within the hour: not even the catalog is read


@pytest.mark.postgres
def test_a_partition_judged_droppable_is_judged_again_under_its_lock(tenant, deliver):
    """A record requeued by hand between the judgement and the drop (the operator's retry of an old failure)
    keeps its partition."""
    now = timezone.now()
    first = partitions.range_start(now - timedelta(days=200))
    partitions.ensure(now, since=first)
    _history_at(first + timedelta(hours=1), deliver, user_id="old")
    name = f"notifications_notificationrecord_p{first:%Y%m%d}"
    spec, part = next((spec, part) for spec, part in partitions.droppable(now) if part.name == name)

    NotificationRecord.objects.filter(user_id="old", channel="email").update(status="pending")

    assert partitions.drop(spec, part) is None
    assert name in _ranges(NotificationRecord)
    assert NotificationRecord.objects.filter(user_id="old", status="pending").exists()


@pytest.mark.postgres
def test_one_claim_of_records_in_two_partitions_stores_every_outcome(tenant, deliver):
    """The outcomes' UPDATE reads only the batch's time partitions (created_at between the batch's first and
    last): a claim holding records of both sides of a boundary stores them all."""
    boundary = partitions.range_start(timezone.now()) + partitions.width()
    for moment, user in ((boundary - timedelta(minutes=1), "before"), (boundary + timedelta(minutes=1), "after")):
        with time_machine.travel(moment, tick=False):
            event_registry.process_events([make_event("task.assigned", user_id=user)])
    emails = NotificationRecord.objects.filter(channel="email")
    assert len({part[-8:] for part in _where(NotificationRecord, channel="email")}) == 2

    with time_machine.travel(boundary + timedelta(minutes=2), tick=False):
        report = deliver()

    assert report.claimed == report.sent == 2
    assert set(emails.values_list("status", flat=True)) == {"sent"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_making_the_same_ranges_at_once_make_each_once():
    """Workers check for ranges at the same moments: one maker per table at a time (an advisory lock), the other
    then finds the ranges made; neither errs (without the lock: a deadlock, or 'already exists')."""
    from django.db import connections

    later = timezone.now() + 6 * partitions.width()
    barrier = threading.Barrier(2)
    made: list[list[str]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(10)
            made.append(partitions.ensure(later))
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            errors.append(err)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    names = [name for names in made for name in names]
    with connection.cursor() as cursor:  # the ranges made outlive the test's database flush: dropped again
        for name in names:
            table = next(spec.table for spec in partitions.TABLES if name.startswith(f"{spec.table}_p"))
            partitioning.drop_partition(cursor, table, name)
    assert errors == []
    assert len(names) == len(set(names)) == 6 * len(partitions.TABLES)
