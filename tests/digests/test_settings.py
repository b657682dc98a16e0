"""notifications/digests/settings.py and rules.py: a tenant's digest settings are checked on save (the API and
Tenant.clean) with errors naming the bad part; intake reads stored values defensively; windows close on time."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from notifications.digests.rules import DigestRule, digest_rule, parse_schedule, recipient_zone, rule_from
from notifications.digests.settings import digest_problems
from notifications.rendering.models import NotificationTemplate
from notifications.tenants.models import Tenant

CHANNELS = {"email", "sms", "push", "in_app", "*"}


def problems(rule):
    return digest_problems({"digests": {"content.liked": {"push": rule}}}, CHANNELS)


@pytest.mark.parametrize(("rule", "where", "words"), [
    ({"window_seconds": 0}, ".window_seconds", "whole seconds from 1"),
    ({"window_seconds": "600"}, ".window_seconds", "whole seconds"),
    ({"window_seconds": 60, "schedule": {"daily": "09:00"}}, "", "one of them"),
    ({}, "", "needs window_seconds or schedule"),
    ({"schedule": {"daily": "25:00"}}, ".schedule", "HH:MM"),
    ({"schedule": {"weekly": "someday 09:00"}}, ".schedule", "weekday"),
    ({"schedule": {"hourly": "09:00"}}, ".schedule", '{"daily": "HH:MM"}'),
    ({"window_seconds": 60, "key": "content_id"}, ".key", "list"),
    ({"window_seconds": 60, "key": ["content id"]}, ".key", "letters, digits"),
    ({"window_seconds": 60, "first_at_once": "yes"}, ".first_at_once", "true or false"),
    ({"window_seconds": 60, "windows": 3}, "", "unknown field(s) windows"),
])
def test_a_bad_rule_is_refused_naming_the_bad_part(rule, where, words):
    found = problems(rule)
    assert list(found) == [f"digests['content.liked']['push']{where}"]
    assert words in found[f"digests['content.liked']['push']{where}"]


def test_good_rules_pass():
    assert problems({"window_seconds": 600, "key": ["content_id"], "first_at_once": True}) == {}
    assert problems({"schedule": {"weekly": "Mon 09:30"}}) == {}
    assert digest_problems({"digests": {"content.liked": {"fax": {"window_seconds": 5}}}}, CHANNELS) == {
        "digests['content.liked']": "must map channels (*, email, in_app, push, sms) to digest rules"}
    assert digest_problems({"digests": []}, CHANNELS) == {"digests": "must be an object of at most 200 event types"}


def test_the_api_refuses_a_bad_digest_rule_naming_it_and_keeps_a_good_one(api_a, api_b, tenant):
    bad = api_a.put("/tenant/settings", {"digests": {"content.liked": {"push": {"schedule": {"daily": "9am"}}}}})
    assert bad.status_code == 422 and "digests['content.liked']['push'].schedule" in str(bad.json()["detail"])
    assert "digests" not in Tenant.objects.get(id="acme").settings
    rule = {"window_seconds": 600, "key": ["content_id"], "first_at_once": True}
    good = api_a.put("/tenant/settings", {"digests": {"content.liked": {"push": rule}},
                                          "rate_limits": {"content.liked": {"in_app": {"limit": 3,
                                                                                       "excess": "digest"}}}})
    assert good.status_code == 200, good.content
    stored = Tenant.objects.get(id="acme").settings
    assert stored["digests"] == {"content.liked": {"push": rule}}
    assert stored["rate_limits"]["content.liked"]["in_app"]["excess"] == "digest"
    assert "digests" not in Tenant.objects.get(id="globex").settings  # the other tenant's settings untouched
    refused = api_a.put("/tenant/settings", {"rate_limits": {"content.liked": {"push": {"limit": 3,
                                                                                       "excess": "queue"}}}})
    assert refused.status_code == 422 and "excess" in str(refused.json()["detail"])


def test_a_digest_template_is_saved_under_the_event_types_name_with_digest_placeholders(tenant):
    template = NotificationTemplate(tenant=tenant, name="content_liked_push_digest", channel="push",
                                    content={"title": "{{ count }} likes", "body": "{{ events[0].liked_by }}"})
    template.full_clean()
    wrong = NotificationTemplate(tenant=tenant, name="content_liked_push_digest", channel="push",
                                 content={"title": "{{ nonsense }}", "body": "x"})
    with pytest.raises(Exception, match="nonsense"):
        wrong.full_clean()


def test_stored_values_are_read_defensively():
    assert rule_from({"window_seconds": -1}) is None and rule_from("600") is None
    assert rule_from({"window_seconds": 60, "key": [1]}) is None
    assert digest_rule({"digests": {"content.liked": {"*": {"window_seconds": 60}}}}, "content.liked", "push") == (
        DigestRule("window", seconds=60))
    assert digest_rule({"digests": "x"}, "content.liked", "push") is None
    assert recipient_zone("Mars/Olympus", {"default_timezone": "../../etc/passwd"}) == ZoneInfo("UTC")
    assert recipient_zone("", {"default_timezone": "Asia/Tokyo"}) == ZoneInfo("Asia/Tokyo")


def test_schedules_close_at_the_next_local_time_across_daylight_saving():
    daily = DigestRule("schedule", at=time(9, 0))
    berlin = ZoneInfo("Europe/Berlin")
    # 28 March 2027, 08:30 UTC = 10:30 CEST (summer time began at 02:00): next 09:00 is tomorrow, 07:00 UTC.
    assert daily.closes_at(datetime(2027, 3, 28, 8, 30, tzinfo=UTC), berlin) == datetime(
        2027, 3, 29, 7, 0, tzinfo=UTC)
    assert daily.closes_at(datetime(2027, 3, 27, 7, 59, tzinfo=UTC), berlin) == datetime(
        2027, 3, 27, 8, 0, tzinfo=UTC)
    weekly = DigestRule("schedule", at=time(9, 0), weekday=0)
    monday_at_nine = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    assert weekly.closes_at(monday_at_nine, ZoneInfo("UTC")) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    assert parse_schedule({"weekly": "FRIDAY 17:30"}) == (time(17, 30), 4)
