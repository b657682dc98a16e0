"""notifications/digests through intake and the worker (windows.py, closing.py): a window per key, one digest
per window holding every event, first-at-once, the key with a payload field, a daily schedule in the
recipient's zone, the rate limit's digest mode, a retry of the digest. The clock is time-machine's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from notifications.channels.models import InAppMessage
from notifications.delivery.models import NotificationRecord
from notifications.digests.models import DigestWindow
from notifications.enums import Status, WaitReason
from notifications.intake.service import process_events
from notifications.rendering.models import NotificationTemplate
from notifications.tenants.models import Contact
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
LIKERS = ["Jane", "Bob", "Carol", "Dan", "Eve", "Finn"]


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def liked(by: str = "Jane", **fields):
    event = make_event("content.liked", liked_by=by, content_title=None, like_count=None, **fields)
    return {**event, "event_id": str(uuid.uuid4())}


def configure(tenant, **rule):
    tenant.settings = {**tenant.settings, "digests": {"content.liked": {"in_app": rule}}}
    tenant.save()


def in_app():
    return list(NotificationRecord.objects.filter(channel="in_app").order_by("pk"))


def test_one_window_one_digest_holding_every_event(tenant, deliver, clock):
    configure(tenant, window_seconds=600)
    process_events([liked(LIKERS[0]), liked(LIKERS[1])])
    clock.shift(timedelta(minutes=5))
    process_events([liked(name) for name in LIKERS[2:5]])

    records = in_app()
    assert {(r.status, r.reason) for r in records} == {(Status.SCHEDULED, WaitReason.DIGESTING)}
    assert [r.next_attempt_at for r in records] == [NOW + timedelta(minutes=10), None, None, None, None]
    assert len({r.digest_window for r in records}) == 1
    assert not InAppMessage.objects.exists()  # nothing in the inbox while the window is open
    assert NotificationRecord.objects.filter(channel="push", status=Status.SENT).count() == 0
    deliver()
    assert not InAppMessage.objects.exists()
    assert NotificationRecord.objects.filter(channel="push", status=Status.SENT).count() == 5  # not digested

    clock.move_to(NOW + timedelta(minutes=10))
    deliver()

    [message] = InAppMessage.objects.all()
    assert message.title == "Jane and 4 others liked your post"
    digest, *members = in_app()
    assert digest.status == Status.SENT and message.record_id == digest.pk
    assert {(r.status, r.reason) for r in members} == {(Status.SKIPPED, f"digested_into:{digest.pk}")}
    window = DigestWindow.objects.get()
    assert (window.state, window.count, window.events, window.digest_record_id) == ("digested", 5, 5, digest.pk)


def test_an_event_after_the_close_opens_the_next_window(tenant, deliver, clock):
    configure(tenant, window_seconds=600)
    process_events([liked("Jane"), liked("Bob")])
    clock.move_to(NOW + timedelta(minutes=10))
    process_events([liked("Carol")])  # the worker has not closed the first window yet: intake sees it is past
    deliver()
    windows = list(DigestWindow.objects.order_by("pk"))
    assert [(w.state, w.events) for w in windows] == [("digested", 2), ("open", 1)]
    assert windows[1].closes_at == NOW + timedelta(minutes=20)
    clock.move_to(NOW + timedelta(minutes=20))
    deliver()
    assert sorted(InAppMessage.objects.values_list("title", flat=True)) == [
        "Carol liked your post", "Jane and 1 other liked your post"]


def test_first_at_once_sends_the_first_and_digests_the_rest(tenant, deliver, clock):
    configure(tenant, window_seconds=600, first_at_once=True)
    process_events([liked("Jane")])
    assert [r.status for r in in_app()] == [Status.SENT]  # at once: delivered at intake
    process_events([liked("Bob"), liked("Carol")])
    _first, digest, member = in_app()
    assert digest.next_attempt_at == NOW + timedelta(minutes=10) and member.next_attempt_at is None
    clock.move_to(NOW + timedelta(minutes=10))
    deliver()
    assert sorted(InAppMessage.objects.values_list("title", flat=True)) == [
        "Bob and 1 other liked your post", "Jane liked your post"]
    assert NotificationRecord.objects.get(pk=member.pk).reason == f"digested_into:{digest.pk}"
    # The next event, past the close: at once again.
    process_events([liked("Dan")])
    assert in_app()[-1].status == Status.SENT


def test_a_window_with_only_its_first_event_sent_at_once_closes_with_the_next_event(tenant, deliver, clock):
    configure(tenant, window_seconds=600, first_at_once=True)
    process_events([liked("Jane")])
    clock.move_to(NOW + timedelta(hours=1))
    process_events([liked("Bob")])
    assert [r.status for r in in_app()] == [Status.SENT, Status.SENT]
    assert [w.state for w in DigestWindow.objects.order_by("pk")] == ["closed", "open"]


def test_the_key_with_content_id_keeps_each_post_apart(tenant, deliver, clock):
    configure(tenant, window_seconds=600, key=["content_id"])
    process_events([liked("Jane", content_id="P-1"), liked("Bob", content_id="P-2"),
                    liked("Carol", content_id="P-1")])
    assert DigestWindow.objects.count() == 2
    clock.move_to(NOW + timedelta(minutes=10))
    deliver()
    assert sorted(InAppMessage.objects.values_list("title", flat=True)) == [
        "Bob liked your post", "Jane and 1 other liked your post"]


def test_a_daily_schedule_closes_at_the_time_in_the_recipients_zone(tenant, deliver, clock):
    tenant.settings = {**tenant.settings, "default_timezone": "Europe/Berlin",
                       "digests": {"content.liked": {"*": {"schedule": {"daily": "09:00"}}}}}
    tenant.save()
    Contact.objects.create(tenant=tenant, user_id="u-1", timezone="America/New_York")
    Contact.objects.create(tenant=tenant, user_id="u-2")  # the tenant's default zone
    process_events([liked("Jane"), liked("Bob", user_id="u-2")])
    due = {r.user_id: r.next_attempt_at for r in in_app()}
    # 09:00 UTC is 04:00 in New York (09:00 there is 14:00 UTC) and 10:00 in Berlin (09:00 tomorrow: 08:00 UTC).
    assert due == {"u-1": datetime(2026, 12, 6, 14, 0, tzinfo=UTC), "u-2": datetime(2026, 12, 7, 8, 0, tzinfo=UTC)}
    weekly = DigestWindow.objects.get(user_id="u-1", channel="push")
    assert weekly.closes_at == datetime(2026, 12, 6, 14, 0, tzinfo=UTC)


def test_a_weekly_schedule(tenant, clock):
    configure(tenant, schedule={"weekly": "mon 09:00"})
    process_events([liked("Jane")])  # Sunday 6 December 2026
    assert in_app()[0].next_attempt_at == datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def test_rate_limit_digest_mode_sends_the_first_and_digests_the_excess(tenant, deliver, clock):
    tenant.settings = {**tenant.settings, "rate_limits": {
        "content.liked": {"in_app": {"limit": 2, "per_seconds": 3600, "excess": "digest"},
                          "push": {"limit": 2, "per_seconds": 3600}}}}
    tenant.save()
    process_events([liked(name) for name in LIKERS[:5]])
    records = in_app()
    assert [r.status for r in records] == [Status.SENT, Status.SENT] + [Status.SCHEDULED] * 3
    assert records[2].next_attempt_at == NOW + timedelta(hours=1)
    push = NotificationRecord.objects.filter(channel="push").order_by("pk")
    assert [r.reason for r in push][2:] == ["rate_limited"] * 3  # the skip mode is unchanged
    clock.move_to(NOW + timedelta(hours=1))
    deliver()
    assert sorted(InAppMessage.objects.values_list("title", flat=True)) == [
        "Bob liked your post", "Carol and 2 others liked your post", "Jane liked your post"]


def test_critical_notifications_are_never_digested(tenant, clock):
    tenant.settings = {**tenant.settings, "digests": {"auth.2fa.code.requested": {"*": {"window_seconds": 600}}}}
    tenant.save()
    [result] = process_events([make_event("auth.2fa.code.requested")])
    assert not any(r.reason == WaitReason.DIGESTING for r in result.records)
    assert not DigestWindow.objects.exists()


def test_a_tenant_digest_template_overrides_the_default(tenant, deliver, clock):
    configure(tenant, window_seconds=60)
    NotificationTemplate.objects.create(
        tenant=tenant, name="content_liked_in_app_digest", channel="in_app",
        content={"title": "{{ count }} likes: {% for e in events %}{{ e.liked_by }} {% endfor %}", "body": "x"})
    process_events([liked("Jane"), liked("Bob")])
    clock.move_to(NOW + timedelta(minutes=1))
    deliver()
    assert InAppMessage.objects.get().title == "2 likes: Jane Bob"


def test_a_digest_claimed_again_renders_the_same_events(tenant, deliver, clock):
    from notifications.delivery.batch import Record, load_batch
    from notifications.digests.closing import close_digests

    configure(tenant, window_seconds=60)
    process_events([liked("Jane"), liked("Bob"), liked("Carol")])
    digest = in_app()[0]
    [record] = load_batch([digest.pk]).records
    assert isinstance(record, Record)
    first = close_digests([record])[digest.pk]
    process_events([liked("Dan")])  # after the close: the next window
    again = close_digests([record])[digest.pk]
    assert (again.count, [e[0] for e in again.events]) == (first.count, [e[0] for e in first.events])
    assert first.count == 3 and DigestWindow.objects.filter(state="open").count() == 1


def test_a_digest_never_shows_secrets_and_the_digested_events_secrets_are_purged(tenant, deliver, clock):
    from django.core import mail

    from notifications.events.models import Event

    tenant.settings = {**tenant.settings, "digests": {"user.registration.completed": {"email": {
        "window_seconds": 60}}}}
    tenant.save()
    NotificationTemplate.objects.create(
        tenant=tenant, name="user_registration_completed_email_digest", channel="email",
        content={"subject": "{{ count }} sign-ups",
                 "body": "{% for e in events %}{{ e.username }}:{{ e.temp_password }};{% endfor %}"})
    process_events([{**make_event("user.registration.completed", username=name, temp_password=f"pw-{name}"),
                     "event_id": str(uuid.uuid4())} for name in ("ann", "ben")])
    clock.move_to(NOW + timedelta(minutes=1))
    deliver()
    [message] = [m for m in mail.outbox if m.subject == "2 sign-ups"]
    assert message.body.strip() == "ann:;ben:;"  # the events' secrets are not in a digest
    purged = [payload["temp_password"] for payload in Event.objects.values_list("payload", flat=True)]
    assert purged == [{"$purged": True}] * 2  # the digest's own event once sent, the other once digested


def test_a_batch_of_many_keys_joins_them_all(tenant, clock):
    configure(tenant, window_seconds=600)
    users = [f"user-{n}" for n in range(1200)]  # more rows than one SQLite statement takes (windows.SQLITE_ROWS)
    process_events([liked("Jane", user_id=user) for user in users] + [liked("Bob", user_id=users[7])])
    windows = {w.user_id: w.events for w in DigestWindow.objects.all()}
    assert len(windows) == 1200 and windows[users[7]] == 2 and sum(windows.values()) == 1201
    due = [r for r in in_app() if r.next_attempt_at is not None]
    assert len(due) == 1200  # one digest record per window


def test_a_digest_closing_in_quiet_hours_waits_for_their_end(tenant, clock):
    tenant.settings = {**tenant.settings, "quiet_hours": {"start": "22:00", "end": "07:00"},
                       "digests": {"content.liked": {"*": {"schedule": {"daily": "23:00"}}}}}
    tenant.save()
    process_events([liked("Jane"), liked("Bob")])
    due = {r.channel: r.next_attempt_at for r in NotificationRecord.objects.exclude(next_attempt_at=None)}
    # Push is quiet from 22:00 to 07:00 (UTC here): held until 07:00; in-app is not covered by quiet hours.
    assert due == {"push": datetime(2026, 12, 7, 7, 0, tzinfo=UTC), "in_app": datetime(2026, 12, 6, 23, 0, tzinfo=UTC)}


def test_first_at_once_the_first_event_goes_when_timing_says(tenant, deliver, clock):
    # 09:00 UTC is 04:00 in New York: inside the tenant's quiet hours there (22:00-07:00, push only).
    tenant.settings = {**tenant.settings, "default_timezone": "America/New_York",
                       "quiet_hours": {"start": "22:00", "end": "07:00", "channels": ["push"]},
                       "digests": {"content.liked": {"*": {"window_seconds": 600, "first_at_once": True}}}}
    tenant.save()
    process_events([liked("Jane")])
    first = {r.channel: r for r in NotificationRecord.objects.all()}
    # Push is held until 07:00 New York (12:00 UTC) with its reason, as it would be without a digest rule.
    assert (first["push"].status, first["push"].reason, first["push"].next_attempt_at, first["push"].digest_window
            ) == (Status.SCHEDULED, WaitReason.HELD_QUIET_HOURS, datetime(2026, 12, 6, 12, 0, tzinfo=UTC), None)
    assert first["in_app"].status == Status.SENT  # not covered: at once
    # An event's own delay is kept too: scheduled for then, not part of the window.
    process_events([{**liked("Bob", user_id="u-2"), "delay": 120}])
    delayed = NotificationRecord.objects.get(channel="in_app", user_id="u-2")
    assert (delayed.status, delayed.reason, delayed.next_attempt_at, delayed.digest_window) == (
        Status.SCHEDULED, WaitReason.SCHEDULED, NOW + timedelta(minutes=2), None)
