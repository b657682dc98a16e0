"""notifications/scheduling/timing.py through intake and the worker: records written `scheduled` are claimed
only when due, in-app ones too; security notifications are not delayed unless the tenant allows it. The clock
is time-machine's, never a sleep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from notifications.channels.models import InAppMessage
from notifications.delivery.loop import DeliveryLoop
from notifications.delivery.models import NotificationRecord
from notifications.enums import Outcome, RejectionReason, Status, WaitReason
from notifications.events.models import RejectedEvent
from notifications.intake.service import process_events
from notifications.testing import make_event
from tests.fixtures import add_device

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _records(result):
    return {r.channel: r for r in NotificationRecord.objects.filter(event_id=result.event_id)}


def test_a_scheduled_event_waits_for_its_time_then_goes_by_every_channel(tenant, deliver, clock):
    event = {**make_event("task.assigned", email="jane@example.com"), "deliver_at": "2026-12-06T11:00:00+01:00"}

    [result] = process_events([event])
    records = _records(result)

    assert {(r.status, r.reason) for r in records.values()} == {(Status.SCHEDULED, WaitReason.SCHEDULED)}
    assert {r.next_attempt_at for r in records.values()} == {datetime(2026, 12, 6, 10, 0, tzinfo=UTC)}
    assert deliver().claimed == 0  # not due: nothing sent, nothing in the inbox
    assert mail.outbox == [] and not InAppMessage.objects.exists()

    clock.move_to(datetime(2026, 12, 6, 9, 59, 59, tzinfo=UTC))
    assert deliver().claimed == 0
    clock.move_to(datetime(2026, 12, 6, 10, 0, tzinfo=UTC))
    deliver()

    records = _records(result)
    assert {c: r.status for c, r in records.items()} == {"email": "sent", "in_app": "sent", "push": "sent"}
    assert [m.to for m in mail.outbox] == [["jane@example.com"]]
    message = InAppMessage.objects.get(record_id=records["in_app"].pk)
    assert message.user_id == "u-1" and message.title and records["in_app"].provider == "inbox"


def test_a_delay_counts_from_intake(tenant, deliver, clock):
    [result] = process_events([{**make_event("comment.mentioned"), "delay": "PT10M"}])
    assert {r.next_attempt_at for r in _records(result).values()} == {NOW + timedelta(minutes=10)}
    [later] = process_events([{**make_event("comment.mentioned", comment_id="c-2"), "delay": 90}])
    assert {r.next_attempt_at for r in _records(later).values()} == {NOW + timedelta(seconds=90)}


def test_a_time_in_the_past_sends_at_once(tenant, deliver, clock):
    [result] = process_events([{**make_event("task.assigned"), "deliver_at": "2026-12-01T00:00:00Z"}])
    statuses = {c: r.status for c, r in _records(result).items()}
    assert statuses["in_app"] == Status.SENT and statuses["email"] == Status.PENDING
    deliver()
    assert {r.status for r in _records(result).values()} == {Status.SENT}


@pytest.mark.parametrize(("fields", "words"), [
    ({"deliver_at": "next tuesday"}, "deliver_at is not an ISO 8601 date-time"),
    ({"deliver_at": "2026-12-06T11:00:00"}, "needs an offset"),
    ({"delay": "P365D"}, "more than 90 days ahead"),
    ({"delay": -5}, "zero or more seconds"),
    ({"delay": 5, "deliver_at": "2026-12-06T11:00:00Z"}, "not both"),
])
def test_an_unusable_schedule_is_rejected_with_its_reason_and_kept(tenant, clock, fields, words):
    [result] = process_events([{**make_event("task.assigned"), **fields}])

    assert result.outcome == Outcome.REJECTED and result.reason == RejectionReason.INVALID_FIELD
    assert words in result.detail
    assert RejectedEvent.objects.get(pk=result.rejected_id).detail == result.detail
    assert not NotificationRecord.objects.exists()


def test_security_notifications_refuse_a_delay_unless_the_tenant_allows_it(tenant, clock):
    code = {**make_event("auth.2fa.code.requested"), "delay": 60}

    [refused] = process_events([code, {**make_event("task.assigned"), "delay": 60}])[:1]
    assert refused.outcome == Outcome.REJECTED and "security notification" in refused.detail
    assert "allow_delaying_security" in refused.detail

    tenant.settings = {**tenant.settings, "allow_delaying_security": True}
    tenant.save()
    [allowed] = process_events([{**code, "event_id": "second-try"}])
    assert allowed.outcome == Outcome.PROCESSED
    assert {r.status for r in _records(allowed).values()} == {Status.SCHEDULED}


def test_a_tenants_default_delay_applies_per_event_type_and_channel(tenant, deliver, clock):
    tenant.settings = {**tenant.settings, "default_delays": {"task.assigned": {"push": 300},
                                                             "comment.mentioned": {"*": 60},
                                                             "auth.2fa.code.requested": {"*": 600}}}
    tenant.save()

    [task] = process_events([make_event("task.assigned")])
    [comment] = process_events([make_event("comment.mentioned")])
    [code] = process_events([make_event("auth.2fa.code.requested")])

    tasks = _records(task)
    assert (tasks["push"].status, tasks["push"].next_attempt_at) == (Status.SCHEDULED, NOW + timedelta(seconds=300))
    assert tasks["email"].status == Status.PENDING and tasks["in_app"].status == Status.SENT
    assert {r.next_attempt_at for r in _records(comment).values() if r.status == Status.SCHEDULED} == {
        NOW + timedelta(seconds=60)}
    # Stored around the API's check: a default delay never holds a security notification back.
    assert Status.SCHEDULED not in {r.status for r in _records(code).values()}


def test_an_idle_worker_wakes_when_the_next_record_falls_due(tenant, clock, settings):
    loop = DeliveryLoop(poll_seconds=1.0)
    assert loop._idle_seconds() == 1.0  # nothing claimable: the poll interval
    process_events([{**make_event("comment.mentioned"), "delay": 0.25}])
    assert loop._idle_seconds() == pytest.approx(0.25)
    clock.shift(timedelta(seconds=5))  # overdue (another worker's claim in flight): a short wait, no spin
    assert loop._idle_seconds() == 0.01


def test_the_api_shows_why_a_record_waits_and_until_when(tenant, api_a, api_b, clock):
    response = api_a.post("/events", {**make_event("comment.mentioned"), "deliver_at": "2026-12-06T12:00:00Z"})
    assert response.status_code in (200, 201, 202), response.content

    listed = api_a.get("/records?status=scheduled").json()
    items = listed["items"] if isinstance(listed, dict) else listed
    assert items and {(r["status"], r["reason"]) for r in items} == {("scheduled", "scheduled")}
    assert {r["next_attempt_at"][:19] for r in items} == {"2026-12-06T12:00:00"}
    stats = api_a.get("/stats").json()
    assert any(row["status"] == "scheduled" for row in stats["counts"])
    # Another tenant sees none of it.
    other = api_b.get("/records?status=scheduled").json()
    assert (other["items"] if isinstance(other, dict) else other) == []


def test_tenant_settings_refuse_a_default_delay_for_security_notifications(tenant, api_a):
    refused = api_a.put("/tenant/settings", {"default_delays": {"auth.2fa.code.requested": {"*": 60}}})
    assert refused.status_code == 422
    assert "auth.2fa.code.requested is a security notification" in refused.content.decode()

    allowed = api_a.put("/tenant/settings", {"default_delays": {"auth.2fa.code.requested": {"*": 60}},
                                             "allow_delaying_security": True})
    assert allowed.status_code == 200, allowed.content
    ok = api_a.put("/tenant/settings", {"default_delays": {"content.liked": {"push": 300, "*": 60}}})
    assert ok.status_code == 200 and ok.json()["settings"]["default_delays"] == {
        "content.liked": {"push": 300, "*": 60}}


@pytest.mark.parametrize("delays", [
    {"content.liked": {"push": 0}},
    {"content.liked": {"fax": 60}},
    {"content.liked": {"push": 91 * 24 * 3600}},
    {"content.liked": {}},
    {"content.liked": {"push": "soon"}},
])
def test_tenant_settings_refuse_default_delays_out_of_range(tenant, api_a, delays):
    response = api_a.put("/tenant/settings", {"default_delays": delays})
    assert response.status_code == 422, response.content


# Quiet hours (scheduling/quiet_hours.py) in the recipient's zone (scheduling/zones.py).

LATE = datetime(2026, 12, 6, 22, 30, tzinfo=UTC)  # 23:30 in Berlin, 17:30 in New York
MORNING = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # 07:00 in Berlin


@pytest.fixture
def quiet_tenant(tenant):
    tenant.settings = {**tenant.settings, "default_timezone": "Europe/Berlin",
                       "quiet_hours": {"start": "22:00", "end": "07:00"}}
    tenant.save()
    return tenant


def _contact(tenant, user_id="u-1", **fields):
    from notifications.tenants.models import Contact

    return Contact.objects.create(tenant=tenant, user_id=user_id, email=f"{user_id}@example.com", **fields)


def test_quiet_hours_hold_a_record_until_they_end_then_it_goes(quiet_tenant, deliver, clock):
    clock.move_to(LATE)
    [result] = process_events([make_event("task.assigned", email="jane@example.com")])
    records = _records(result)

    for channel in ("email", "push"):
        assert (records[channel].status, records[channel].reason) == (Status.SCHEDULED, WaitReason.HELD_QUIET_HOURS)
        assert records[channel].next_attempt_at == MORNING
    assert records["in_app"].status == Status.SENT  # in-app disturbs no one: not held by default
    assert deliver().claimed == 0

    clock.move_to(MORNING - timedelta(seconds=1))
    assert deliver().claimed == 0 and mail.outbox == []
    clock.move_to(MORNING)
    deliver()
    assert {r.status for r in _records(result).values()} == {Status.SENT}
    assert [m.to for m in mail.outbox] == [["jane@example.com"]]


def test_outside_quiet_hours_records_go_at_once(quiet_tenant, clock):
    [result] = process_events([make_event("task.assigned")])  # 10:00 in Berlin
    assert {r.status for r in _records(result).values()} == {Status.PENDING, Status.SENT}


@pytest.mark.parametrize("event_type", ["user.password.reset.requested", "auth.2fa.code.requested",
                                        "user.login.failed"])
def test_critical_notifications_are_never_held(quiet_tenant, clock, event_type):
    clock.move_to(LATE)
    [result] = process_events([make_event(event_type)])
    assert result.outcome == Outcome.PROCESSED
    assert WaitReason.HELD_QUIET_HOURS not in {r.reason for r in _records(result).values()}
    assert Status.SCHEDULED not in {r.status for r in _records(result).values()}


def test_the_window_is_read_in_the_contacts_own_zone(quiet_tenant, clock):
    _contact(quiet_tenant, "u-ny", timezone="America/New_York")
    _contact(quiet_tenant, "u-tokyo", timezone="Asia/Tokyo")  # 07:30 on Dec 7: outside
    _contact(quiet_tenant, "u-plain")  # the tenant's default: Berlin
    clock.move_to(LATE)
    ny, tokyo, plain = process_events([make_event("comment.mentioned", user_id=user, email=None)
                                       for user in ("u-ny", "u-tokyo", "u-plain")])

    assert _records(ny)["email"].status == Status.PENDING
    assert _records(tokyo)["email"].status == Status.PENDING
    assert (_records(plain)["email"].reason, _records(plain)["email"].next_attempt_at) == (
        WaitReason.HELD_QUIET_HOURS, MORNING)


def test_a_users_own_window_replaces_the_tenants_and_off_opts_out(quiet_tenant, clock):
    _contact(quiet_tenant, "u-off", quiet_hours={"off": True})
    _contact(quiet_tenant, "u-own", quiet_hours={"start": "23:00", "end": "08:30", "channels": ["email", "sms"]})
    add_device("acme", "u-own", "fcm", "fcm-token-own")
    clock.move_to(LATE)
    off, own = process_events([make_event("comment.mentioned", user_id=user, email=None)
                               for user in ("u-off", "u-own")])

    assert {c: r.status for c, r in _records(off).items()} == {
        "email": Status.PENDING, "in_app": Status.SENT, "push": Status.SKIPPED}  # no device: skipped
    records = _records(own)
    assert (records["email"].reason, records["email"].next_attempt_at) == (
        WaitReason.HELD_QUIET_HOURS, datetime(2026, 12, 7, 7, 30, tzinfo=UTC))
    assert records["push"].status == Status.PENDING  # their window leaves push alone, the tenant's would not


def test_a_scheduled_time_inside_the_window_is_held_to_its_end(quiet_tenant, clock):
    [inside, outside] = process_events([
        {**make_event("task.assigned"), "deliver_at": "2026-12-07T02:00:00+01:00"},
        {**make_event("task.assigned", task_id="T-2"), "deliver_at": "2026-12-07T08:00:00+01:00"},
    ])
    assert {(r.reason, r.next_attempt_at) for c, r in _records(inside).items() if c != "in_app"} == {
        (WaitReason.HELD_QUIET_HOURS, MORNING)}
    assert {(r.reason, r.next_attempt_at) for r in _records(outside).values()} == {
        (WaitReason.SCHEDULED, datetime(2026, 12, 7, 7, 0, tzinfo=UTC))}


def test_a_tenant_default_delay_landing_in_the_window_is_held(quiet_tenant, clock):
    quiet_tenant.settings = {**quiet_tenant.settings, "default_delays": {"task.assigned": {"push": 3600}}}
    quiet_tenant.save()
    clock.move_to(datetime(2026, 12, 6, 20, 30, tzinfo=UTC))  # 21:30 in Berlin: the push would go at 22:30
    [result] = process_events([make_event("task.assigned")])
    records = _records(result)
    assert (records["push"].reason, records["push"].next_attempt_at) == (WaitReason.HELD_QUIET_HOURS, MORNING)
    assert records["email"].status == Status.PENDING


def test_registration_stores_the_users_time_zone_and_quiet_hours_use_it(quiet_tenant, clock):
    from notifications.tenants.models import Contact

    clock.move_to(LATE)
    [registered] = process_events([make_event("user.registration.completed", user_id="u-5",
                                              timezone="america/new_york")])
    assert registered.outcome == Outcome.PROCESSED
    assert Contact.objects.get(tenant=quiet_tenant, user_id="u-5").timezone == "America/New_York"
    assert _records(registered)["email"].status == Status.PENDING  # 17:30 in New York

    [later] = process_events([make_event("comment.mentioned", user_id="u-5", email=None)])
    assert _records(later)["email"].status == Status.PENDING


def test_registration_with_an_unknown_time_zone_is_rejected_naming_it(quiet_tenant, clock):
    [result] = process_events([make_event("user.registration.completed", timezone="Mars/Olympus")])
    assert result.outcome == Outcome.REJECTED and result.reason == RejectionReason.INVALID_PAYLOAD_FIELD
    assert "timezone" in result.detail and "Mars/Olympus" in result.detail


@pytest.mark.parametrize(("zone", "now", "release"), [
    # Berlin, spring forward (March 29, 2026): 23:00 CET -> 07:00 CEST, 8 hours later.
    ("Europe/Berlin", datetime(2026, 3, 28, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
    # New York, fall back (November 1, 2026): 23:00 EDT -> 07:00 EST, 9 hours later.
    ("America/New_York", datetime(2026, 11, 1, 3, 0, tzinfo=UTC), datetime(2026, 11, 1, 12, 0, tzinfo=UTC)),
])
def test_quiet_hours_across_a_daylight_saving_night(quiet_tenant, deliver, clock, zone, now, release):
    _contact(quiet_tenant, "u-1", timezone=zone)
    clock.move_to(now)
    [result] = process_events([make_event("task.assigned")])
    assert {r.next_attempt_at for c, r in _records(result).items() if c != "in_app"} == {release}
    clock.move_to(release - timedelta(seconds=1))
    assert deliver().claimed == 0
    clock.move_to(release)
    assert deliver().claimed == 2


def test_a_window_listing_in_app_holds_the_inbox_message_too(quiet_tenant, deliver, clock):
    quiet_tenant.settings = {**quiet_tenant.settings, "quiet_hours": {"start": "22:00", "end": "07:00",
                                                                      "channels": ["in_app"]}}
    quiet_tenant.save()
    clock.move_to(LATE)
    [result] = process_events([make_event("task.assigned")])
    records = _records(result)
    assert (records["in_app"].status, records["in_app"].reason) == (Status.SCHEDULED, WaitReason.HELD_QUIET_HOURS)
    assert records["email"].status == Status.PENDING
    assert not InAppMessage.objects.exists()
    clock.move_to(MORNING)
    deliver()
    assert InAppMessage.objects.get(user_id="u-1").title


@pytest.mark.parametrize("timing", [{"delay": 600}, {"delay": "PT10M"}, {"deliver_at": "2026-12-06T12:00:00Z"}])
def test_a_redelivered_scheduled_event_without_an_id_is_a_duplicate(tenant, clock, timing):
    """The dedupe key of an event without event_id holds the schedule as sent, not the instant it was read as:
    a delay counts from intake, so a redelivery a second later would otherwise be a new event, sent twice."""
    event = {**make_event("content.liked"), **timing}
    [first] = process_events([event])
    clock.shift(timedelta(seconds=1))
    [again] = process_events([event])  # the same message again (Kafka's at-least-once, an HTTP retry)
    assert (first.outcome, again.outcome) == (Outcome.PROCESSED, Outcome.DUPLICATE)


def test_a_redelivery_after_its_deliver_at_passed_is_a_duplicate(tenant, clock):
    event = {**make_event("content.liked"), "deliver_at": "2026-12-06T09:01:00Z"}
    [first] = process_events([event])
    clock.move_to(datetime(2026, 12, 6, 9, 2, tzinfo=UTC))
    [again] = process_events([event])
    assert (first.outcome, again.outcome) == (Outcome.PROCESSED, Outcome.DUPLICATE)
    assert NotificationRecord.objects.filter(event_id=first.event_id).count() == NotificationRecord.objects.count()
