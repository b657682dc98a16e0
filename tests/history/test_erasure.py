"""history.erasure: a person seeded across every table, erased; nothing identifying them is left anywhere in the
database (its dump is searched), the others' data is untouched and an audit entry without their data stays."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from notifications.audiences.models import FanOut, Subscription, Topic
from notifications.audiences.runner import run_chunk, run_until_idle
from notifications.channels.base import Failed, FailureKind
from notifications.channels.models import Device, InAppMessage
from notifications.digests.models import DigestWindow
from notifications.enums import Channel
from notifications.events.models import Event, RejectedEvent
from notifications.events.registry import event_registry
from notifications.history import erasure
from notifications.history.erasure import erase_user
from notifications.history.models import Erasure
from notifications.models import DeliveryAttempt, NotificationRecord
from notifications.tenants.models import Contact, Preference
from notifications.testing import InMemorySender, make_event, use_sender
from tests.fanouts import audience_event, contacts, fanout_to

pytestmark = pytest.mark.django_db

USER = "zq-7731-erasable"
EMAIL = "zorvana.quillfeather@example.org"
PHONE = "+14155557731"
FIRST, LAST = "Zorvana", "Quillfeather"
TOKEN = "fcm-token-zq7731-erasable"
IDENTIFYING = (USER, EMAIL, PHONE, FIRST, LAST, TOKEN)


def database_text() -> str:
    """Every row of every table as text: SQLite's dump, or each PostgreSQL table's rows cast to text."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        tables = [row[0] for row in cursor.fetchall()]
        lines = []
        for table in tables:
            cursor.execute(f'SELECT CAST(t AS text) FROM "{table}" t')  # noqa: S608 - names from the catalog
            lines += [row[0] for row in cursor.fetchall()]
    return "\n".join(lines)


def seed_everywhere(tenant, deliver) -> None:
    """The person in every table: contact, device, preferences, a topic subscription, their own events (e-mail,
    SMS, push, in-app, a 2FA code), an audience event listing them, a bounced attempt quoting their address, a
    digest window, a rejected event, an inbox message, the admin log (their contact edited, a note naming their
    address)."""
    event_registry.process_event(make_event("user.registration.completed", user_id=USER, email=EMAIL,
                                            phone=PHONE, first_name=FIRST, last_name=LAST))
    Device.objects.create(tenant=tenant, user_id=USER, platform="fcm", token=TOKEN)
    Preference.objects.create(tenant=tenant, user_id=USER, event_type="content.liked", channel="email",
                              enabled=False)
    topic = Topic.objects.create(tenant=tenant, key="launches")
    Subscription.objects.create(topic=topic, user_id=USER)
    event_registry.process_events([
        make_event("task.assigned", user_id=USER, email=EMAIL),
        make_event("auth.2fa.code.requested", user_id=USER, email=EMAIL, phone=PHONE, code="604218"),
        make_event("invoice.payment.failed", user_id=USER, email=EMAIL, phone=PHONE),
        {**make_event("task.assigned", user_id=USER, email=EMAIL), "timestamp": "not a time"},  # rejected
    ])
    others = contacts(tenant, 2)
    fanout_to([others[0], USER, others[1]])
    run_until_idle()
    bounce = InMemorySender(Channel.EMAIL, respond=lambda m: Failed(
        FailureKind.PERMANENT, "smtp_550", f"550 5.1.1 <{m.recipient}>: mailbox unavailable"))
    with use_sender(bounce):
        deliver()
    DigestWindow.objects.create(tenant=tenant, channel="email", event_type="content.liked", user_id=USER,
                                key="a" * 64, kind="window", opened_at=timezone.now(), closes_at=timezone.now())
    contact = Contact.objects.get(tenant=tenant, user_id=USER)
    admin_log(str(contact), '[{"changed": {"fields": ["Phone"]}}]', contact)
    admin_log("acme/other-person", f"merged the duplicate {EMAIL.upper()} into this contact")


def admin_log(name: str, message: str, row=None) -> LogEntry:
    """An entry of Django's admin log, as the admin writes one when a contact is changed."""
    user, _ = User.objects.get_or_create(username="support-admin", defaults={"is_staff": True})
    return LogEntry.objects.create(user=user, content_type=ContentType.objects.get_for_model(Contact),
                                   object_id=str(row.pk) if row is not None else "1", object_repr=name,
                                   action_flag=CHANGE, change_message=message)


def test_nothing_identifying_is_left_anywhere(tenant, deliver):
    seed_everywhere(tenant, deliver)
    before = database_text()
    assert all(value in before for value in IDENTIFYING)  # the seed reached the tables searched
    assert InAppMessage.objects.filter(user_id=USER).exists()
    assert DeliveryAttempt.objects.filter(error_detail__contains=EMAIL).exists()
    assert RejectedEvent.objects.filter(original_redacted__contains=EMAIL).exists()

    report = erase_user("acme", USER, requested_by="test")

    after = database_text()
    assert [value for value in IDENTIFYING if value in after] == []
    assert report.counts["contacts"] == 1 and report.counts["events"] == 4 and report.counts["audiences"] == 1
    assert report.counts["rejected_events"] == 1 and report.counts["devices"] == 1
    assert report.counts["admin_log_entries"] == 2 and LogEntry.objects.count() == 2  # who acted, when: kept
    audit = Erasure.objects.get()
    assert (audit.tenant_id, audit.pseudonym, audit.requested_by) == ("acme", report.pseudonym, "test")
    assert USER not in str(audit.counts)


def test_statistics_still_add_up_and_others_are_untouched(tenant, deliver):
    seed_everywhere(tenant, deliver)
    others_before = list(NotificationRecord.objects.exclude(user_id=USER).order_by("pk").values())
    statuses = sorted(NotificationRecord.objects.values_list("channel", "status"))
    contacts_before = Contact.objects.exclude(user_id=USER).count()

    report = erase_user("acme", USER)

    assert list(NotificationRecord.objects.exclude(user_id=report.pseudonym).order_by("pk").values()) == (
        others_before)
    assert sorted(NotificationRecord.objects.values_list("channel", "status")) == statuses
    assert Contact.objects.count() == contacts_before
    assert Event.objects.filter(user_id=report.pseudonym).count() == 4
    assert all(payload == {"$erased": True} for payload in
               Event.objects.filter(user_id=report.pseudonym).values_list("payload", flat=True))


def test_another_tenants_person_of_the_same_id_is_not_touched(tenant, deliver):
    from notifications.tenants.models import Tenant

    Tenant.objects.create(id="globex")
    event_registry.process_events([make_event("task.assigned", user_id=USER, email=EMAIL),
                                   make_event("task.assigned", "globex", user_id=USER, email=EMAIL)])
    erase_user("acme", USER)
    assert Event.objects.get(tenant_id="globex").user_id == USER
    assert NotificationRecord.objects.filter(tenant_id="globex", user_id=USER).exists()
    assert not Event.objects.filter(tenant_id="acme", user_id=USER).exists()


def test_an_unknown_person_erases_nothing_and_leaves_no_audit(tenant):
    report = erase_user("acme", "nobody-here")
    assert not report.found and not Erasure.objects.exists()


def test_pseudonyms_are_random(tenant):
    event_registry.process_events([make_event("task.assigned", user_id="a1"), make_event("task.assigned",
                                                                                        user_id="a2")])
    first, second = erase_user("acme", "a1"), erase_user("acme", "a2")
    assert first.pseudonym != second.pseudonym and first.pseudonym.startswith("erased-")


def test_notifications_not_sent_yet_are_cancelled_not_sent_to_nobody(tenant, deliver):
    from django.core import mail

    event_registry.process_event(make_event("task.assigned", user_id=USER, email=EMAIL))  # e-mail pending
    assert NotificationRecord.objects.filter(user_id=USER, status="pending").exists()
    erase_user("acme", USER)
    deliver()
    assert mail.outbox == []
    assert set(NotificationRecord.objects.exclude(status="sent").values_list("status", "reason")) <= {
        ("cancelled", "erased"), ("skipped", "no_address")}
    assert NotificationRecord.objects.filter(status="cancelled", reason="erased").exists()


def test_a_rejection_naming_their_address_in_another_case_is_erased(tenant):
    event_registry.process_event({**make_event("task.assigned", user_id="x-1", email=EMAIL.upper()),
                                  "timestamp": "not a time"})
    Contact.objects.create(tenant=tenant, user_id=USER, email=EMAIL)
    assert erase_user("acme", USER).counts["rejected_events"] == 1


def test_rows_are_found_and_changed_a_chunk_at_a_time(tenant, deliver, monkeypatch):
    """Nothing loads all of a person's ids: each table's are read ID_CHUNK at a time (fan-outs AUDIENCE_CHUNK)."""
    seed_everywhere(tenant, deliver)
    event_registry.process_events([make_event("task.assigned", user_id=USER, email=EMAIL, task_id=f"T-{i}")
                                   for i in range(3)])
    fanout_to(["user-00000", USER])
    records = NotificationRecord.objects.filter(user_id=USER).count()
    monkeypatch.setattr(erasure, "ID_CHUNK", 2)
    monkeypatch.setattr(erasure, "AUDIENCE_CHUNK", 1)
    chunks: dict[str, list[int]] = {}
    real = erasure._chunks

    def spy(query, size=0):
        for ids in real(query, size):
            chunks.setdefault(query.model.__name__, []).append(len(ids))
            yield ids

    monkeypatch.setattr(erasure, "_chunks", spy)

    report = erase_user("acme", USER)

    assert [value for value in IDENTIFYING if value in database_text()] == []
    assert max(max(sizes) for name, sizes in chunks.items() if name != "FanOut") == 2
    assert chunks["FanOut"] == [1, 1] and report.counts["audiences"] == 2
    assert sum(chunks["NotificationRecord"]) == records == report.counts["records"] > 4
    assert sum(chunks["Event"]) == report.counts["events"] == 7
    assert report.counts["admin_log_entries"] == 2


def test_admin_log_entries_naming_another_person_are_left(tenant):
    Contact.objects.create(tenant=tenant, user_id=USER, email=EMAIL, phone=PHONE)
    mine = [admin_log(f"acme/{USER}", "[]"), admin_log("acme/x", f"called {PHONE}"),
            admin_log("acme/z", f"asked about {USER}.")]
    others = [admin_log(f"acme/{USER}-2", "[]"), admin_log(f"globex/{USER}", "[]"),
              admin_log("acme/y", f"not {USER}.old nor {USER}@example.org")]

    assert erase_user("acme", USER).counts["admin_log_entries"] == 3

    assert {entry.pk for entry in LogEntry.objects.filter(object_repr="[erased]", change_message="[erased]")} == {
        entry.pk for entry in mine}
    assert [LogEntry.objects.get(pk=entry.pk).object_repr for entry in others] == [
        entry.object_repr for entry in others]


def _audience(kind: str, tenant, listed: list[str]) -> FanOut:
    if kind == "recipients":
        return fanout_to(listed)
    if kind == "topic":
        topic = Topic.objects.create(tenant=tenant, key="launches")
        Subscription.objects.bulk_create([Subscription(topic=topic, user_id=one) for one in listed])
        addressing = {"to_topic": "launches"}
    else:
        tenant.settings = {**tenant.settings, "allow_broadcast": True}
        tenant.save()
        addressing = {"to_all": True}
    result = event_registry.process_events([audience_event(**addressing)])[0]
    return FanOut.objects.get(pk=result.fanout_id)


@pytest.mark.parametrize("kind", ["recipients", "topic", "all"])
def test_a_running_fan_out_whose_cursor_is_them_resumes_with_the_same_next_recipient(tenant, kind):
    before, after = "aa-before", "zz-after"  # in user-id order: before, the person, after
    for user_id in (before, USER, after):
        Contact.objects.create(tenant=tenant, user_id=user_id, email=f"{user_id}@example.net")
    job = _audience(kind, tenant, [before, USER, after])
    run_chunk(job.pk, size=2)
    job.refresh_from_db()
    assert (job.state, job.cursor) == ("running", USER)

    erase_user("acme", USER)

    job.refresh_from_db()
    assert job.cursor == before and USER not in database_text()
    run_until_idle()
    job.refresh_from_db()
    assert job.state == "done" and job.written == job.total  # a list's total is its length, the person gone
    written = sorted(NotificationRecord.objects.filter(event_id=job.event_id, channel="email")
                     .values_list("user_id", flat=True))
    assert [one for one in written if not one.startswith("erased-")] == [before, after]  # after once, before once
