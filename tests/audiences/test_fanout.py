"""Fan-out end to end: an audience event is recorded at intake, its runner writes each recipient's records in
chunks, each rendered with the recipient's own contact, preferences and time zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail

from notifications.audiences.models import FanOut, FanOutState, Subscription, Topic
from notifications.audiences.runner import run_chunk, run_until_idle
from notifications.channels.models import InAppMessage
from notifications.delivery.models import NotificationRecord
from notifications.enums import Lane, Outcome, RejectionReason, SkipReason, Status, WaitReason
from notifications.events.registry import event_registry
from notifications.intake.service import process_events
from notifications.tenants.models import Contact, Preference, Tenant
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def audience_event(event_type: str = "task.assigned", tenant_id: str = "acme", **addressing: Any) -> dict[str, Any]:
    event = make_event(event_type, tenant_id, user_id=None, email=None)
    return {**event, **addressing}


def contacts(tenant: Tenant, count: int, **fields: Any) -> list[str]:
    ids = [f"user-{i:05d}" for i in range(count)]
    Contact.objects.bulk_create([Contact(tenant=tenant, user_id=user_id, email=f"{user_id}@example.com",
                                         first_name=f"Name{i}", **fields) for i, user_id in enumerate(ids)])
    return ids


def records_of(job: FanOut) -> list[NotificationRecord]:
    return list(NotificationRecord.objects.filter(event_id=job.event_id).order_by("user_id", "channel"))


def test_a_recipient_list_reaches_each_recipient_with_their_own_contact(tenant, deliver):
    ids = contacts(tenant, 3)
    result = process_events([audience_event(recipients=[ids[2], ids[0], ids[1], ids[0]])])[0]
    assert result.outcome == Outcome.PROCESSED and result.fanout_id is not None
    job = FanOut.objects.get(pk=result.fanout_id)
    assert job.state == FanOutState.PENDING and job.total == 3 and job.recipients == sorted(ids)
    assert NotificationRecord.objects.filter(event_id=job.event_id).count() == 0  # written by the runner

    run_until_idle()
    deliver()

    job.refresh_from_db()
    assert job.state == FanOutState.DONE and job.written == 3
    emails = {r.user_id: r for r in records_of(job) if r.channel == "email"}
    assert {r.recipient for r in emails.values()} == {f"{i}@example.com" for i in ids}
    assert all(r.lane == Lane.BULK and r.status == Status.SENT for r in emails.values())
    bodies = {m.to[0]: m.body for m in mail.outbox}
    assert "Name1" in bodies["user-00001@example.com"] and "Name0" not in bodies["user-00001@example.com"]
    inbox = InAppMessage.objects.filter(tenant_id="acme").values_list("user_id", flat=True)
    assert sorted(inbox) == ids


def test_payload_user_ids_are_a_recipient_list(tenant):
    ids = contacts(tenant, 2)
    event = audience_event()
    event["payload"]["user_ids"] = ids
    result = process_events([event])[0]
    run_until_idle()
    assert FanOut.objects.get(pk=result.fanout_id).written == 2
    assert "user_ids" not in NotificationRecord.objects.filter(event_id=result.event_id).first().event.payload


def test_an_unknown_recipient_is_a_skipped_record_not_a_rejected_event(tenant):
    ids = contacts(tenant, 1)
    result = process_events([audience_event(recipients=[ids[0], "nobody"])])[0]
    run_until_idle()
    job = FanOut.objects.get(pk=result.fanout_id)
    nobody = [r for r in records_of(job) if r.user_id == "nobody"]
    assert nobody and all((r.status, r.reason) == (Status.SKIPPED, SkipReason.UNKNOWN_RECIPIENT) for r in nobody)
    assert job.skipped[SkipReason.UNKNOWN_RECIPIENT] == len(nobody)


def test_preferences_and_opt_outs_apply_per_recipient(tenant):
    ids = contacts(tenant, 3)
    Preference.objects.create(tenant=tenant, user_id=ids[1], event_type="task.assigned", channel="email",
                              enabled=False)
    result = process_events([audience_event(recipients=ids)])[0]
    run_until_idle()
    email = {r.user_id: (r.status, r.reason) for r in NotificationRecord.objects.filter(
        event_id=result.event_id, channel="email")}
    assert email[ids[1]] == (Status.SKIPPED, SkipReason.OPTED_OUT)
    assert email[ids[0]][0] == email[ids[2]][0] == Status.PENDING


def test_a_topic_reaches_its_subscribers_at_the_time_of_the_event_with_their_topic_preference(tenant, deliver):
    ids = contacts(tenant, 4)
    topic = Topic.objects.create(tenant=tenant, key="project-42")
    Subscription.objects.bulk_create([Subscription(topic=topic, user_id=ids[0]),
                                      Subscription(topic=topic, user_id=ids[1], channels=["in_app"])])
    result = process_events([audience_event(to_topic="project-42")])[0]
    Subscription.objects.create(topic=topic, user_id=ids[2])  # after the event: not reached
    run_until_idle()
    got = {(r.user_id, r.channel): (r.status, r.reason) for r in NotificationRecord.objects.filter(
        event_id=result.event_id)}
    assert {user for user, _ in got} == {ids[0], ids[1]}
    assert got[(ids[1], "email")] == (Status.SKIPPED, SkipReason.TOPIC_PREFERENCE)
    assert got[(ids[1], "in_app")][0] == got[(ids[0], "email")][0] == Status.PENDING  # the workers deliver them
    deliver()
    assert sorted(InAppMessage.objects.filter(tenant_id="acme").values_list("user_id", flat=True)) == [ids[0], ids[1]]


def test_an_unknown_topic_and_a_broadcast_not_allowed_are_refused_with_the_reason(tenant):
    unknown, everyone = process_events([audience_event(to_topic="nope"), audience_event(to_all=True)])
    assert unknown.reason == everyone.reason == RejectionReason.AUDIENCE_REFUSED
    assert "no topic 'nope'" in unknown.detail and "allow_broadcast" in everyone.detail
    assert not FanOut.objects.exists()


def test_a_broadcast_reaches_every_contact_once_the_tenant_allows_it(tenant):
    ids = contacts(tenant, 5)
    tenant.settings = {"allow_broadcast": True}
    tenant.save()
    result = process_events([audience_event(to_all=True)])[0]
    run_until_idle(size=2)  # three chunks
    job = FanOut.objects.get(pk=result.fanout_id)
    assert (job.state, job.total, job.written) == (FanOutState.DONE, 5, 5)
    assert sorted(NotificationRecord.objects.filter(event_id=result.event_id, channel="email")
                  .values_list("user_id", flat=True)) == ids


def test_chunks_commit_as_they_go_and_resume_from_the_cursor(tenant):
    ids = contacts(tenant, 7)
    result = process_events([audience_event(recipients=ids)])[0]
    step = run_chunk(size=3)
    assert (step.state, step.written) == (FanOutState.RUNNING, 3)
    job = FanOut.objects.get(pk=result.fanout_id)
    assert job.cursor == ids[2]
    run_until_idle(size=3)
    per_user = NotificationRecord.objects.filter(event_id=result.event_id, channel="email")
    assert sorted(per_user.values_list("user_id", flat=True)) == ids  # each once


def test_audience_events_with_secrets_or_one_persons_contact_are_refused(tenant):
    code = make_event("auth.2fa.code.requested", user_id=None, email=None, phone=None)
    code["recipients"] = ["a", "b"]
    with_email = audience_event(recipients=["a"])
    with_email["payload"]["email"] = "someone@example.com"
    refused = process_events([code, with_email])
    assert [r.outcome for r in refused] == [Outcome.REJECTED, Outcome.REJECTED]
    assert "secrets" in refused[0].detail and "payload.email" in refused[1].detail


def test_the_guides_process_event_takes_an_audience_event(tenant):
    contacts(tenant, 2)
    result = event_registry.process_event(audience_event(recipients=["user-00000", "user-00001"]))
    assert result.fanout_id is not None and "fan-out" in str(result)


LATE = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, 17:30 in New York


def test_quiet_hours_are_read_in_each_recipients_own_zone(tenant):
    tenant.settings = {"default_timezone": "Europe/Berlin", "quiet_hours": {"start": "22:00", "end": "07:00"}}
    tenant.save()
    Contact.objects.create(tenant=tenant, user_id="u-berlin", email="b@example.com")
    Contact.objects.create(tenant=tenant, user_id="u-ny", email="n@example.com", timezone="America/New_York")
    with time_machine.travel(LATE, tick=False):
        result = process_events([audience_event(recipients=["u-berlin", "u-ny"])])[0]
        run_until_idle()
    email = {r.user_id: r for r in NotificationRecord.objects.filter(event_id=result.event_id, channel="email")}
    assert (email["u-berlin"].status, email["u-berlin"].reason) == (Status.SCHEDULED, WaitReason.HELD_QUIET_HOURS)
    assert email["u-berlin"].next_attempt_at == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 07:00 in Berlin
    assert email["u-ny"].status == Status.PENDING


def test_a_digesting_tenant_digests_each_recipients_records_in_their_own_window(tenant):
    tenant.settings = {"digests": {"content.liked": {"in_app": {"window_seconds": 600}}}}
    tenant.save()
    ids = contacts(tenant, 2)
    first = process_events([audience_event("content.liked", recipients=ids)])[0]
    second = process_events([{**audience_event("content.liked", recipients=ids), "event_id": "second"}])[0]
    run_until_idle()
    in_app = NotificationRecord.objects.filter(event_id__in=[first.event_id, second.event_id], channel="in_app")
    assert {r.reason for r in in_app} == {WaitReason.DIGESTING}
    windows = {(r.user_id, r.digest_window) for r in in_app}
    assert len(windows) == 2 and {user for user, _ in windows} == set(ids)  # one window per recipient


def test_a_cancel_key_cancels_the_written_records_and_stops_the_fan_out(tenant):
    from notifications.scheduling.cancel import cancel

    ids = contacts(tenant, 6)
    result = process_events([audience_event(recipients=ids, cancel_key="launch-1")])[0]
    run_chunk(size=2)
    assert cancel("acme", "launch-1") == 4  # two recipients' email and in-app records
    run_until_idle(size=2)
    job = FanOut.objects.get(pk=result.fanout_id)
    assert (job.state, job.written) == (FanOutState.CANCELLED, 2)
    statuses = set(NotificationRecord.objects.filter(event_id=result.event_id).values_list("status", flat=True))
    assert statuses == {Status.CANCELLED, Status.SKIPPED}  # push: no device


def test_a_tenant_cannot_address_another_tenants_topic(tenant):
    other = Tenant.objects.create(id="globex")
    topic = Topic.objects.create(tenant=other, key="secret-project")
    Subscription.objects.create(topic=topic, user_id="g-1")
    [result] = process_events([audience_event(to_topic="secret-project")])  # from acme
    assert result.reason == RejectionReason.AUDIENCE_REFUSED and not FanOut.objects.exists()


def test_a_notification_cancel_event_stops_the_fan_out_too(tenant):
    ids = contacts(tenant, 4)
    result = process_events([audience_event(recipients=ids, cancel_key="launch-2")])[0]
    run_chunk(size=2)
    process_events([{**make_event("notification.cancel"), "payload": {"cancel_key": "launch-2"}}])
    run_until_idle(size=2)
    job = FanOut.objects.get(pk=result.fanout_id)
    assert (job.state, job.written) == (FanOutState.CANCELLED, 2)


def test_a_cancel_event_cannot_address_an_audience(tenant):
    ids = contacts(tenant, 2)
    cancel = {**make_event("notification.cancel"), "payload": {"cancel_key": "k1"}, "recipients": ids}
    [result] = process_events([cancel])
    assert result.outcome == Outcome.REJECTED and "notifies no one" in result.detail
    assert not FanOut.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_host_handler_that_queries_while_planning_is_not_streamed(tenant):
    """Rows stream into a COPY while planned only for the built-in handlers: a host project's handler may read
    the database while asked who gets what, which would wait for ever for the connection the COPY holds."""
    from notifications.enums import Channel
    from notifications.events.base_handler import BaseEventHandler

    class Lookup(BaseEventHandler):
        event_types = ("review.lookup",)
        default_templates = {Channel.EMAIL: {"subject": "x", "body": "y"}}

        def get_channels(self, event_type: str, payload: dict) -> tuple:
            Contact.objects.exists()  # e.g. a feature flag read from the database
            return (Channel.EMAIL,)

    handler = event_registry.register(Lookup())
    try:
        ids = contacts(tenant, 2)
        [result] = process_events([{"event_type": "review.lookup", "tenant_id": "acme", "payload": {},
                                    "timestamp": "2026-01-01T00:00:00Z", "recipients": ids}])
        run_until_idle()
        assert FanOut.objects.get(pk=result.fanout_id).state == FanOutState.DONE
        assert NotificationRecord.objects.filter(event_id=result.event_id).count() == 2
    finally:
        event_registry.unregister_handler(handler)


def test_a_cancel_in_a_batch_stops_the_fan_outs_before_it_and_spares_those_after_it(tenant):
    ids = contacts(tenant, 3)
    cancel = {**make_event("notification.cancel"), "payload": {"cancel_key": "reminder"}}
    before = {**audience_event(recipients=ids, cancel_key="reminder"), "event_id": "old-reminder"}
    after = {**audience_event(recipients=ids, cancel_key="reminder"), "event_id": "new-reminder"}
    old, _, new = process_events([before, cancel, after])
    run_until_idle()
    assert FanOut.objects.get(pk=old.fanout_id).state == FanOutState.CANCELLED
    assert FanOut.objects.get(pk=new.fanout_id).state == FanOutState.DONE
    assert NotificationRecord.objects.filter(event_id=new.event_id, channel="email").count() == 3


def test_run_until_idle_gives_up_on_a_job_whose_chunks_keep_failing(tenant, monkeypatch):
    from notifications.audiences import runner

    ids = contacts(tenant, 2)
    result = process_events([audience_event(recipients=ids)])[0]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("broken before a job is picked")

    monkeypatch.setattr(runner, "_run_chunk", broken)
    assert run_until_idle() == 0  # returns instead of trying for ever
    assert FanOut.objects.get(pk=result.fanout_id).state == FanOutState.PENDING


def test_a_list_shortened_while_running_is_read_again(tenant):
    """A runner reads a job's list once (it may hold 100,000 ids), and again when its length changed: an erasure
    (history.erasure) takes a person out and lowers the total, and a list read before must not bring them back."""
    ids = contacts(tenant, 3)
    job = FanOut.objects.get(pk=process_events([audience_event(recipients=ids)])[0].fanout_id)
    run_chunk(job.pk, size=1)  # the list is read: ids[0] written
    FanOut.objects.filter(pk=job.pk).update(recipients=[ids[0], ids[2]], total=2)
    run_until_idle()
    assert sorted({record.user_id for record in records_of(job)}) == [ids[0], ids[2]]
