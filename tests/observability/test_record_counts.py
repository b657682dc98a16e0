"""observability/record_counts.py: the records counted by hour, tenant, channel, status and reason, kept by the
database on every kind of write (checked against a GROUP BY of the records themselves), on SQLite and
PostgreSQL; on PostgreSQL, writers that never wait on each other's counters, their rows folded once an hour is
closed, and the counts of a dropped partition gone with it."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from django.db import connection, transaction
from django.utils import timezone

from notifications.delivery.models import NotificationRecord
from notifications.events.registry import event_registry
from notifications.observability import record_counts
from notifications.observability.models import RecordCount
from notifications.tenants.models import Tenant
from notifications.testing import make_event
from tests.helpers import held_open
from tests.shared import BEFORE_0021

pytestmark = pytest.mark.django_db

KEY = ("tenant_id", "channel", "status", "reason")


def counted() -> dict[tuple, int]:
    """What the counts say, summed over writers: (hour, tenant, channel, status, reason) -> n, zeros left out."""
    sums: Counter[tuple] = Counter()
    for row in RecordCount.objects.values("hour", *KEY, "n"):
        sums[(row["hour"], *(row[k] for k in KEY))] += row["n"]
    return {key: n for key, n in sums.items() if n}


def recounted() -> dict[tuple, int]:
    """The same, from the records (what the dashboard's GROUP BY read before)."""
    sums: Counter[tuple] = Counter()
    for row in NotificationRecord.objects.values("created_at", *KEY):
        hour = row["created_at"].replace(minute=0, second=0, microsecond=0)
        sums[(hour, *(row[k] for k in KEY))] += 1
    return dict(sums)


@pytest.fixture
def other_tenant(db):
    return Tenant.objects.create(id="globex", name="Globex")


def take_in(*users: str, tenant_id: str = "acme") -> None:
    event_registry.process_events([make_event("user.login.failed", user_id=u, tenant_id=tenant_id) for u in users])


def test_every_kind_of_write_keeps_the_counts_equal_to_the_records(tenant, other_tenant, deliver):
    take_in("u1", "u2", "u3")  # intake (COPY on PostgreSQL)
    take_in("v1", tenant_id=other_tenant.pk)
    assert counted() == recounted() and sum(counted().values()) == NotificationRecord.objects.count() > 0

    deliver()  # the delivery loop: claimed, sent
    sms = NotificationRecord.objects.filter(tenant=tenant, channel="sms").order_by("pk")
    NotificationRecord.objects.filter(pk=sms[0].pk).update(status="failed", reason="twilio_21211")  # a bulk UPDATE
    record = NotificationRecord.objects.get(pk=sms[1].pk)
    record.status, record.reason = "cancelled", "superseded"
    record.save()  # a whole-row save
    NotificationRecord.objects.filter(pk=sms[2].pk).update(created_at=timezone.now() - timedelta(days=30))  # moved
    NotificationRecord.objects.filter(tenant=other_tenant, channel="email").delete()  # Django's delete
    NotificationRecord.objects.filter(tenant=tenant).update(provider="x")  # nothing counted changes
    assert counted() == recounted()
    assert sum(n for (_, t, _, status, _), n in counted().items() if t == tenant.pk and status == "sent") > 0


def test_a_rolled_back_change_leaves_the_counts_as_they_were(tenant):
    take_in("u1")
    before = counted()
    with pytest.raises(RuntimeError), transaction.atomic():
        NotificationRecord.objects.update(status="failed", reason="boom")
        assert counted() != before  # counted in the same transaction
        raise RuntimeError
    assert counted() == before == recounted()


def test_the_window_sums_tenants_from_since_s_hour_on(tenant, other_tenant):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    with time_machine.travel(hour - timedelta(hours=4), tick=False):
        take_in("before")
    with time_machine.travel(hour + timedelta(minutes=10), tick=False):
        take_in("early")
    with time_machine.travel(hour + timedelta(minutes=50), tick=False):
        take_in("u1")
        take_in("v1", tenant_id=other_tenant.pk)

    rows = record_counts.window(hour + timedelta(minutes=30))  # from that hour on: its first minutes too

    assert {row["hour"] for row in rows} == {hour}
    by_channel = Counter()
    for row in rows:
        by_channel[row["channel"]] += row["count"]
    made = NotificationRecord.objects.exclude(user_id="before")
    assert by_channel == Counter(made.values_list("channel", flat=True)) and len(by_channel) > 1
    shown: Counter[tuple] = Counter()
    for row in rows:
        shown[(row["channel"], row["status"], row["reason"])] += row["count"]
    assert shown == Counter(made.values_list("channel", "status", "reason"))
    wide = record_counts.window(hour - timedelta(hours=5))
    assert sum(row["count"] for row in wide) == NotificationRecord.objects.count()


def _writers() -> set[int]:
    return set(RecordCount.objects.values_list("writer", flat=True))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_connections_count_the_same_key_without_waiting_for_each_other(tenant):
    """A worker's transaction that moved records of a tenant's hour is still open; another connection moving more
    of that same key neither waits for it (each adds to its own writer's rows) nor loses anything."""
    take_in("u1", "u2")
    ids = list(NotificationRecord.objects.filter(channel="sms").order_by("pk").values_list("pk", flat=True))
    with held_open(f"UPDATE notifications_notificationrecord SET status = 'sent' WHERE id = {int(ids[0])}"):  # noqa: S608
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")  # waiting for the worker would fail here
            NotificationRecord.objects.filter(pk=ids[1]).update(status="sent")
    assert counted() == recounted()
    assert len(_writers()) == 2  # this connection's (intake, its update) and the worker's


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_compacting_folds_closed_hours_and_passes_over_rows_a_transaction_holds(tenant):
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=3), tick=False):
        take_in("u1", "u2", "u3")
    take_in("now")  # this hour's: not folded
    old = RecordCount.objects.filter(hour__lt=now - timedelta(hours=1))
    # Another writer: one change committed, then one held open on the same key.
    with held_open("UPDATE notifications_notificationrecord SET status = 'failed', reason = 'late' "
                   "WHERE channel = 'sms' AND user_id = 'u1'",
                   committed_first=("UPDATE notifications_notificationrecord SET status = 'sent' "
                                    "WHERE channel = 'sms' AND user_id = 'u2'",)):
        before = counted()
        other = (set(old.values_list("writer", flat=True)) - {connection.connection.info.backend_pid}).pop()
        assert record_counts.compact(now) > 0  # without waiting for the worker (it would time out)
        # Folded, but for the held row: the worker's (sms, pending) counter, which its open transaction moves.
        assert list(old.exclude(writer=0).values_list("writer", "channel", "status")) == [(other, "sms", "pending")]
        assert RecordCount.objects.filter(hour__gte=now - timedelta(hours=1)).exclude(writer=0).exists()
        assert counted() == before
    assert counted() == recounted() != before
    record_counts.compact(now)
    assert set(old.values_list("writer", flat=True)) == {0} and not old.filter(n=0).exists()
    assert counted() == recounted()


@pytest.mark.postgres
def test_a_dropped_partition_takes_its_counts(tenant, deliver):
    from notifications.history import partitions
    from notifications.history.retention import prune

    now = timezone.now()
    first = partitions.range_start(now - timedelta(days=200))
    partitions.ensure(now, since=first)
    with time_machine.travel(first + timedelta(hours=1), tick=False):
        take_in("old")
        deliver()
    take_in("new")
    assert counted() == recounted()

    report = prune(now)

    assert f"notifications_notificationrecord_p{first:%Y%m%d}" in report.dropped
    assert not NotificationRecord.objects.filter(user_id="old").exists()
    assert counted() == recounted() and counted()
    assert not RecordCount.objects.filter(hour__lt=first + timedelta(days=7)).exists()


_TAKE_IN = BEFORE_0021 + """
from notifications.events.registry import event_registry
from notifications.testing import make_event
from notifications.tenants.models import Tenant
Tenant.ensure(["acme"])
event_registry.process_events([make_event("task.assigned", user_id=f"{PREFIX}{n}") for n in range(4)])
"""
_DIFFERENCE = BEFORE_0021 + """
from tests.observability.test_record_counts import counted, recounted
print(sorted(set(counted().items()) ^ set(recounted().items())), sum(counted().values()))
"""


@pytest.mark.slow
def test_the_migration_counts_the_records_already_there_and_goes_back(shared_db):
    from tests.db.test_migration_ops import _migrate

    _migrate(shared_db, "0019")
    shared_db.run_python(_TAKE_IN.replace("{PREFIX}", "old"))
    records = shared_db.scalar("SELECT count(*) FROM notifications_notificationrecord")

    _migrate(shared_db, "0020")

    assert shared_db.run_python(_DIFFERENCE).strip() == f"[] {records}"
    shared_db.run_python(_TAKE_IN.replace("{PREFIX}", "new"))
    assert shared_db.run_python(_DIFFERENCE).strip() == f"[] {2 * records}"
    _migrate(shared_db, "0019")
    shared_db.run_python(_TAKE_IN.replace("{PREFIX}", "gone"))  # no trigger left writing to a dropped table
    assert shared_db.scalar("SELECT count(*) FROM notifications_notificationrecord") == 3 * records


def test_the_triggers_exist_after_the_migrations():
    """A migration that makes Django rebuild the records table (SQLite: most column changes) drops its triggers
    without a word; this fails until the migration makes them again."""
    if connection.vendor == "postgresql":
        query = ("SELECT tgname FROM pg_trigger WHERE tgrelid = 'notifications_notificationrecord'::regclass "
                 "AND NOT tgisinternal")
        expected = {"record_count_insert", "record_count_update", "record_count_delete", "record_count_truncate"}
    else:
        query = ("SELECT name FROM sqlite_master WHERE type = 'trigger' "
                 "AND tbl_name = 'notifications_notificationrecord'")
        expected = {"record_count_insert", "record_count_update", "record_count_delete"}
    with connection.cursor() as cursor:
        cursor.execute(query)
        assert {row[0] for row in cursor.fetchall()} == expected


@pytest.mark.postgres
def test_a_truncate_takes_the_counts_and_a_partition_named_directly_escapes_them(tenant):
    take_in("u1", "u2")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the test's transaction: the device key's checks are due
        cursor.execute("TRUNCATE notifications_notificationrecord")
    assert counted() == {} == recounted()
    take_in("u3")
    partition = NotificationRecord.objects.extra(
        select={"part": "tableoid::regclass::text"}).values_list("part", flat=True).first()
    with connection.cursor() as cursor:  # fires no trigger: the counts drift, and the command says so
        cursor.execute(f"UPDATE {partition} SET status = 'failed', reason = 'by_hand'")  # noqa: S608 - a partition name
    assert counted() != recounted()
    assert {(key[2], key[3], key[4]) for key, _, _ in record_counts.drift()} >= {("sms", "failed", "by_hand")}


def test_the_command_finds_drift_and_recounts(tenant):
    from django.core.management import CommandError, call_command

    take_in("u1", "u2")
    call_command("record_counts", stdout=(out := StringIO()))
    assert out.getvalue() == "the counts match the records\n"
    RecordCount.objects.filter(channel="sms").update(n=5)  # as if a statement had escaped the triggers
    with pytest.raises(CommandError, match="counts differ from the records"):
        call_command("record_counts", stdout=(out := StringIO()))
    assert "acme sms pending -: counted 5, records 2" in out.getvalue()

    call_command("record_counts", "--recount", stdout=StringIO())

    assert counted() == recounted() and record_counts.drift() == []
    assert set(RecordCount.objects.values_list("writer", flat=True)) == {0}


def test_compacting_on_sqlite_removes_the_keys_at_zero(tenant):
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL folds writers' rows: tested above")
    now = timezone.now()
    with time_machine.travel(now - timedelta(hours=3), tick=False):
        take_in("u1")
    NotificationRecord.objects.update(status="sent")  # the 'pending' keys go to zero
    assert RecordCount.objects.filter(n=0).exists()
    record_counts.compact(now)
    assert not RecordCount.objects.filter(n=0).exists() and counted() == recounted()
