"""history.retention: what expires when, per tenant and class, in bounded batches, under a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from notifications.audiences.models import FanOut
from notifications.channels.models import InAppMessage
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import event_registry
from notifications.history import retention
from notifications.history.retention import RetentionSweep, _last_id_before, prune
from notifications.history.settings import retention_days, retention_problems
from notifications.tenants.models import Tenant
from notifications.testing import make_event
from notifications.utils.ids import uuid7_floor
from tests.fanouts import contacts, fanout_to

pytestmark = pytest.mark.django_db

JAN = datetime(2026, 1, 10, 12, tzinfo=UTC)


def _old_history(deliver) -> None:
    """In January: an e-mail sent (with an attempt), an in-app message, a record still waiting (scheduled for
    later), a rejected event."""
    with time_machine.travel(JAN, tick=False):
        event_registry.process_events([
            make_event("user.login.succeeded"),
            make_event("task.assigned"),
            {**make_event("comment.mentioned"), "deliver_at": "2026-04-01T00:00:00Z"},
            {**make_event("task.assigned"), "timestamp": "not a time"},
        ])
        deliver()


def test_nothing_expires_before_its_time(tenant, deliver):
    _old_history(deliver)
    counts = (Event.objects.count(), NotificationRecord.objects.count(), InAppMessage.objects.count())
    with time_machine.travel(JAN + timedelta(days=89), tick=False):
        assert prune().deleted == {}
    assert (Event.objects.count(), NotificationRecord.objects.count(), InAppMessage.objects.count()) == counts


STRAY = 10**9  # an attempt of no record here: attempts' ids then differ from their records' (as they do)


def test_final_records_go_with_their_attempts_then_their_events_open_ones_stay(tenant, deliver):
    DeliveryAttempt.objects.create(record_id=STRAY, tenant_id="acme", provider="x", started_at=timezone.now(),
                                   outcome="sent")
    _old_history(deliver)
    assert DeliveryAttempt.objects.exists() and InAppMessage.objects.exists()
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        report = prune()
    # The scheduled ones never expire while they wait; their event stays with them.
    assert set(NotificationRecord.objects.values_list("status", flat=True)) == {"scheduled"}
    waiting = set(NotificationRecord.objects.values_list("event_id", flat=True))
    assert list(DeliveryAttempt.objects.values_list("record_id", flat=True)) == [STRAY]
    assert set(Event.objects.values_list("pk", flat=True)) == waiting  # the others had no record left
    assert not RejectedEvent.objects.exists()
    assert report.deleted["records"] >= 3 and report.deleted["events"] == 2 and report.deleted["rejected_events"] == 1
    # The inbox keeps its message (180 days), forgetting its record.
    message = InAppMessage.objects.get()  # task.assigned's, delivered at intake
    assert message.record_id is None
    with time_machine.travel(JAN + timedelta(days=181), tick=False):
        prune()
    assert not InAppMessage.objects.exists()


def test_a_tenants_setting_overrides_the_defaults_and_null_keeps_forever(tenant, deliver, settings):
    _old_history(deliver)
    tenant.settings = {"retention_days": {"records": None, "inbox": 30}}
    tenant.save()
    assert retention_days(tenant) == {"events": 90, "records": None, "inbox": 30}
    with time_machine.travel(JAN + timedelta(days=31), tick=False):
        report = prune()
    assert report.deleted == {"inbox_messages": 1}
    assert NotificationRecord.objects.count() >= 3
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "RETENTION_DAYS": {"records": 7}}
    tenant.settings = {}
    tenant.save()
    with time_machine.travel(JAN + timedelta(days=8), tick=False):
        assert prune().deleted["records"] >= 3


def test_other_tenants_keep_their_own_retention(tenant, deliver):
    Tenant.objects.create(id="globex", settings={"retention_days": {"records": 365, "events": 365}})
    with time_machine.travel(JAN, tick=False):
        event_registry.process_events([make_event("user.login.succeeded"),
                                       make_event("user.login.succeeded", tenant_id="globex")])
        deliver()
    with time_machine.travel(JAN + timedelta(days=100), tick=False):
        prune()
    assert set(Event.objects.values_list("tenant_id", flat=True)) == {"globex"}
    assert set(NotificationRecord.objects.values_list("tenant_id", flat=True)) == {"globex"}


def test_an_event_with_an_open_fanout_is_kept(tenant, deliver):
    contacts(tenant, 3)
    with time_machine.travel(JAN, tick=False):
        job = fanout_to(["user-00000", "user-00001"])  # no runner has run: the job is open, no record yet
    with time_machine.travel(JAN + timedelta(days=200), tick=False):
        prune()
    assert Event.objects.filter(pk=job.event_id).exists() and FanOut.objects.get().state in ("pending", "running")


def test_dry_run_counts_and_deletes_nothing(tenant, deliver):
    _old_history(deliver)
    before = NotificationRecord.objects.count()
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        report = prune(dry_run=True)
    final = NotificationRecord.objects.exclude(status="scheduled").count()
    assert report.deleted["records"] == final < before and report.deleted["rejected_events"] == 1
    assert NotificationRecord.objects.count() == before


def test_batches_are_bounded_and_a_budget_stops_and_resumes(tenant, deliver, monkeypatch):
    monkeypatch.setattr(retention, "PRUNE_BATCH", 2)
    with time_machine.travel(JAN, tick=False):
        event_registry.process_events([make_event("user.login.succeeded", ip_address=f"198.51.100.{i}")
                                       for i in range(5)])
        deliver()
    total = NotificationRecord.objects.count()
    ticks = iter(range(1000))
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        # The first call's one step is the rejections without a tenant; then each call deletes one batch of 2 of
        # acme's records and runs out of time, to go on with the same table next time.
        first = prune(budget=0.5, clock=lambda: float(next(ticks)))
        assert not first.finished and first.resume == ("acme", 0) and first.deleted == {}
        calls = [prune(budget=0.5, clock=lambda: float(next(ticks)), resume=first.resume)]
        assert calls[0].resume == ("acme", 0) and calls[0].deleted == {"records": 2}
        while NotificationRecord.objects.exists() and len(calls) < total:
            calls.append(prune(budget=0.5, clock=lambda: float(next(ticks)), resume=calls[-1].resume))
        assert sum(call.deleted.get("records", 0) for call in calls) == total
        assert all(call.deleted.get("records", 0) <= 2 for call in calls)
        rest = prune(resume=calls[-1].resume)
    assert rest.finished and not NotificationRecord.objects.exists() and not Event.objects.exists()


def test_the_worker_sweep_runs_once_per_interval(tenant, deliver, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "RETENTION_INTERVAL_SECONDS": 60}
    now = [0.0]
    sweep = RetentionSweep(clock=lambda: now[0])
    _old_history(deliver)
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        assert sweep.sweep() is None  # not in its first minute
        now[0] = 61.0
        assert sweep.sweep().deleted["records"] >= 3
        now[0] = 62.0
        assert sweep.sweep() is None


@pytest.mark.parametrize(("value", "problem"), [
    ({"records": 0}, "retention_days['records']"),
    ({"records": True}, "retention_days['records']"),
    ({"records": 1.5}, "retention_days['records']"),
    ({"audit": 30}, "retention_days"),
    ([30], "retention_days"),
])
def test_bad_settings_are_refused_naming_them(value, problem):
    assert problem in retention_problems(value)


def test_bad_settings_are_refused_on_save(tenant):
    from django.core.exceptions import ValidationError

    tenant.settings = {"retention_days": {"records": -1}}
    with pytest.raises(ValidationError, match="whole number of days"):
        tenant.full_clean()
    assert retention_problems({"records": 30, "events": None, "inbox": 36500}) == {}


def test_last_id_before_bisects_the_primary_key(tenant):
    with time_machine.travel(JAN, tick=False) as traveller:
        for day in range(40):
            InAppMessage.objects.create(tenant=tenant, user_id="u", event_type="x", title=f"d{day}")
            traveller.shift(timedelta(days=1))
    InAppMessage.objects.filter(title__in=["d3", "d17", "d18"]).delete()  # gaps in the ids
    ids = dict(InAppMessage.objects.values_list("title", "pk"))
    assert _last_id_before(InAppMessage, "created_at", JAN + timedelta(days=20, hours=1)) == ids["d20"]
    assert _last_id_before(InAppMessage, "created_at", JAN + timedelta(days=18, hours=1)) == ids["d16"]
    assert _last_id_before(InAppMessage, "created_at", JAN) is None
    assert _last_id_before(InAppMessage, "created_at", JAN + timedelta(days=400)) == ids["d39"]
    assert timezone.now()  # the clock is back


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pruning_while_a_worker_claims_loses_nothing_open(tenant, monkeypatch):
    """Expired records pruned in small batches while a worker claims and sends fresh ones, each on its own
    connection: every fresh record is sent exactly once, every expired one goes, neither side errs."""
    import threading

    from django.core import mail
    from django.db import connections

    from notifications.delivery.engine import deliver_until_idle

    monkeypatch.setattr(retention, "PRUNE_BATCH", 3)
    event_registry.process_events([make_event("user.login.succeeded", ip_address=f"198.51.100.{i}")
                                   for i in range(30)])
    deliver_until_idle()
    NotificationRecord.objects.update(created_at=timezone.now() - timedelta(days=120))  # expired, final
    mail.outbox = []
    event_registry.process_events([make_event("user.login.succeeded", ip_address=f"203.0.113.{i}")
                                   for i in range(30)])
    fresh = set(NotificationRecord.objects.filter(status="pending").values_list("pk", flat=True))
    assert len(fresh) == 30
    barrier = threading.Barrier(2)
    answers: dict[str, object] = {}

    def run(name, work) -> None:
        try:
            barrier.wait()
            answers[name] = work()
        except Exception as err:  # noqa: BLE001 - reported by the assertion below
            answers[name] = err
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=("sent", lambda: deliver_until_idle().sent)),
               threading.Thread(target=run, args=("pruned", lambda: prune().deleted.get("records", 0)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == {"sent": 30, "pruned": 30}
    assert set(NotificationRecord.objects.values_list("pk", flat=True)) == fresh
    assert set(NotificationRecord.objects.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 30


def test_each_sweep_goes_on_where_the_last_one_stopped(tenant, deliver):
    """A budget that runs out stops at a tenant and table; the next call goes on from there, so every tenant is
    reached in turn (not only the first few), and each call gets at least one table done."""
    names = ["t1", "t2", "t3"]
    for name in names:
        Tenant.objects.create(id=name)
    with time_machine.travel(JAN, tick=False):
        event_registry.process_events([make_event("user.login.succeeded", tenant_id=name) for name in names])
        deliver()
    ticks = iter(range(10_000))
    resume = None
    calls = 0
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        while True:
            calls += 1
            report = prune(budget=0.5, clock=lambda: float(next(ticks)), resume=resume)  # one table a call
            resume = report.resume
            if report.finished:
                break
            assert calls < 100
    assert calls > 3 and not NotificationRecord.objects.exists() and not Event.objects.exists()


def test_events_are_not_scanned_while_their_records_are_kept(tenant, deliver):
    tenant.settings = {"retention_days": {"records": None, "events": 30}}
    tenant.save()
    _old_history(deliver)
    with time_machine.travel(JAN + timedelta(days=400), tick=False):
        report = prune(dry_run=True)
    assert "events" not in report.deleted and Event.objects.count() == 3


def test_service_defaults_that_are_not_days_are_refused_not_applied(tenant, deliver, settings, caplog):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    from notifications.errors import NotificationConfigurationError

    _old_history(deliver)
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "RETENTION_DAYS": {"inbox": 0},
                              "RETENTION_INTERVAL_SECONDS": 1}
    with pytest.raises(NotificationConfigurationError, match="RETENTION_DAYS"):
        prune()
    now = [0.0]
    sweep = RetentionSweep(clock=lambda: now[0])
    now[0] = 2.0
    assert sweep.sweep() is None and "history is not pruned" in caplog.text
    assert InAppMessage.objects.exists()
    with pytest.raises(SystemCheckError, match=r"notifications\.E001"):
        call_command("check")


def test_rejections_without_a_tenant_and_finished_fanouts_go_too(tenant, deliver):
    contacts(tenant, 2)
    with time_machine.travel(JAN, tick=False):
        event_registry.process_events([b"{not json"])
        job = fanout_to(["user-00000", "user-00001"])
        from notifications.audiences.runner import run_until_idle

        run_until_idle()
        deliver()
    assert RejectedEvent.objects.filter(tenant_id="").exists()
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        prune()
    assert not RejectedEvent.objects.exists()
    assert not Event.objects.filter(pk=job.event_id).exists() and not FanOut.objects.exists()


def test_an_open_window_at_the_lowest_id_does_not_keep_digested_ones(tenant):
    from notifications.digests.models import DigestWindow

    with time_machine.travel(JAN, tick=False):
        DigestWindow.objects.create(tenant=tenant, channel="email", event_type="x", key="o" * 64, kind="window",
                                    opened_at=timezone.now(), closes_at=timezone.now())  # still open
        DigestWindow.objects.create(tenant=tenant, channel="email", event_type="x", key="d" * 64, kind="window",
                                    state="digested", opened_at=timezone.now(), closes_at=timezone.now(),
                                    closed_at=timezone.now())
    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        assert prune().deleted.get("digest_windows") == 1
    assert list(DigestWindow.objects.values_list("state", flat=True)) == ["open"]


def test_events_with_random_keys_of_older_databases_expire_too(tenant):
    """Databases from before ef08eef keyed events with random version 4 UUIDs, most of them far above any
    time-ordered key: they are found by that bound, and kept while a record of theirs is."""
    import uuid

    def legacy_event(user_id: str) -> Event:
        key = uuid.UUID(hex="f" + uuid.uuid4().hex[1:])  # version 4, high
        return Event.objects.create(id=key, tenant=tenant, event_type="task.assigned", dedupe_key=user_id,
                                    user_id=user_id, occurred_at=JAN)

    with time_machine.travel(JAN, tick=False):
        gone, kept = legacy_event("gone"), legacy_event("kept")
        assert gone.pk.hex > uuid7_floor(JAN + timedelta(days=400)).replace("-", "")  # far above the cut-off
        NotificationRecord.objects.create(tenant=tenant, event=kept, event_type="task.assigned", user_id="kept",
                                          channel="email", status="pending")

    with time_machine.travel(JAN + timedelta(days=200), tick=False):
        report = prune()

    assert report.deleted.get("events") == 1
    assert set(Event.objects.values_list("pk", flat=True)) == {kept.pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_background_sweep_prunes_on_its_own_thread_one_at_a_time(tenant, deliver, settings):
    """The worker's sweep on PostgreSQL: sweep() returns at once, the thread prunes on its own connection, and no
    second sweep starts while it runs."""
    import threading

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "RETENTION_INTERVAL_SECONDS": 60}
    _old_history(deliver)
    now = [0.0]
    sweep = RetentionSweep(clock=lambda: now[0], background=True)
    gate = threading.Event()
    real_prune = retention.prune

    def held_prune(**kwargs):
        gate.wait(10)
        return real_prune(**kwargs)

    with time_machine.travel(JAN + timedelta(days=91), tick=False):
        retention.prune = held_prune
        try:
            now[0] = 61.0
            assert sweep.sweep() is None and sweep.thread is not None and sweep.thread.is_alive()
            first = sweep.thread
            now[0] = 200.0
            assert sweep.sweep() is None and sweep.thread is first  # still running: no second one
            gate.set()
            first.join(30)
        finally:
            retention.prune = real_prune
    assert not first.is_alive()
    assert set(NotificationRecord.objects.values_list("status", flat=True)) == {"scheduled"}


def test_a_dedupe_key_goes_with_its_event_and_not_before(tenant, deliver):
    """An expired event kept by a record still waiting keeps its key (a redelivery is still a duplicate), even
    when it went in just before the cut-off: on PostgreSQL a key's event is looked up only in the events
    partitions of before the cut-off and its slack. Once the record is done, the event and its key go."""
    from notifications.events.models import EventKey

    waiting = {**make_event("comment.mentioned"), "event_id": "kept-1",
               "deliver_at": "2026-04-01T00:00:00Z"}  # not delivered here
    with time_machine.travel(JAN, tick=False):
        event_registry.process_events([waiting, {**make_event("task.assigned"), "event_id": "gone-1"}])
        deliver()
    with time_machine.travel(JAN + timedelta(days=90, minutes=30), tick=False):  # the cut-off: 30 minutes after
        prune()
        assert "id:kept-1" in set(EventKey.objects.values_list("dedupe_key", flat=True))
        assert event_registry.process_events([waiting])[0].outcome.value == "duplicate"
    NotificationRecord.objects.update(status="cancelled")
    with time_machine.travel(JAN + timedelta(days=120), tick=False):
        prune()
    assert not Event.objects.exists() and not EventKey.objects.exists()


def test_a_random_key_below_the_time_ordered_floor_stays_while_its_event_does(tenant):
    """A database from before ef08eef keyed events with random (version 4) UUIDs; about 0.6% of them fall
    below the floor of time-ordered keys of any cut-off. Such an event taken in 10 days ago is not expired, and
    its dedupe key must stay with it (the time-ordered keys' bounded look-up would not find it: found in
    review). Once the event is gone, so is its key."""
    import uuid

    from notifications.events.models import EventKey

    envelope = {**make_event("task.assigned"), "event_id": "legacy-1"}
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        event_registry.process_events([envelope])
    event = Event.objects.get()
    legacy = uuid.UUID("00" + uuid.uuid4().hex[2:])  # version 4, below any floor
    NotificationRecord.objects.filter(event_id=event.pk).update(event_id=legacy)
    Event.objects.filter(pk=event.pk).update(id=legacy)
    EventKey.objects.filter(event_id=event.pk).update(event_id=legacy)

    prune()

    assert EventKey.objects.filter(event_id=legacy).exists()
    assert event_registry.process_events([envelope])[0].outcome.value == "duplicate"
    NotificationRecord.objects.all().delete()
    Event.objects.all().delete()
    prune()
    assert not EventKey.objects.exists()
