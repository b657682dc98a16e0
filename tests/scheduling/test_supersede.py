"""notifications/scheduling/supersede.py through intake: a new 2FA code supersedes the user's pending older one,
"payment succeeded" a pending "payment failed" of the same invoice; tenants extend or override the rules
(settings["cancels"], checked on save, read defensively at intake)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError

from notifications.delivery.models import NotificationRecord
from notifications.enums import Outcome, Status
from notifications.intake.service import process_events
from notifications.scheduling.supersede import KEY_LENGTH, cancels_problems, rules_for, supersede_key
from notifications.tenants.models import Tenant
from tests.helpers import sent_sms

SUPERSEDED = (Status.CANCELLED, "superseded")


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 12, 6, 9, 0, tzinfo=UTC), tick=False):
        yield


def event(event_type: str, event_id: str, tenant_id: str = "acme", **payload) -> dict:
    from notifications.testing import make_event

    return {**make_event(event_type, tenant_id, **payload), "event_id": event_id}


def statuses(result) -> set[tuple[str, str]]:
    return set(NotificationRecord.objects.filter(event_id=result.event_id).values_list("status", "reason"))


@pytest.mark.django_db
def test_a_new_2fa_code_supersedes_the_users_pending_older_one_and_only_the_new_one_is_sent(tenant, deliver):
    [old] = process_events([event("auth.2fa.code.requested", "c-1", code="111111")])
    [other_user] = process_events([event("auth.2fa.code.requested", "c-2", user_id="u-2", code="222222")])
    [new] = process_events([event("auth.2fa.code.requested", "c-3", code="333333")])

    assert statuses(old) == {SUPERSEDED}
    assert statuses(new) == statuses(other_user) == {(Status.PENDING, "")}
    assert new.detail == "superseded 1 notification(s)"
    deliver()
    assert sorted(message["body"][:6] for message in sent_sms()) == ["222222", "333333"]


@pytest.mark.django_db
def test_in_one_batch_the_later_code_supersedes_the_earlier_never_itself(tenant):
    first, second = process_events([event("auth.2fa.code.requested", "c-1", code="111111"),
                                    event("auth.2fa.code.requested", "c-2", code="222222")])
    assert statuses(first) == {SUPERSEDED}
    assert statuses(second) == {(Status.PENDING, "")}
    assert {r.status for r in first.records} == {Status.CANCELLED}


@pytest.mark.django_db
def test_payment_succeeded_supersedes_the_pending_payment_failed_of_the_same_invoice(tenant):
    [failed] = process_events([event("invoice.payment.failed", "f-1", invoice_id="INV-1")])
    [other] = process_events([event("invoice.payment.failed", "f-2", invoice_id="INV-2")])
    [paid] = process_events([event("invoice.payment.succeeded", "p-1", invoice_id="INV-1")])

    assert statuses(failed) == {SUPERSEDED}  # email, sms and push
    assert {status for status, _ in statuses(other)} == {Status.PENDING}
    assert paid.outcome == Outcome.PROCESSED and paid.detail == "superseded 3 notification(s)"
    assert {r.channel for r in paid.records} == {"email", "in_app"}


@pytest.mark.django_db
def test_an_invoice_number_sent_as_a_number_matches_its_text(tenant):
    [failed] = process_events([event("invoice.payment.failed", "f-1", invoice_id=5001)])
    process_events([event("invoice.payment.succeeded", "p-1", invoice_id="5001")])
    assert statuses(failed) == {SUPERSEDED}


@pytest.mark.django_db
def test_a_sent_payment_failed_is_left_alone(tenant, deliver):
    [failed] = process_events([event("invoice.payment.failed", "f-1")])
    deliver()
    [paid] = process_events([event("invoice.payment.succeeded", "p-1")])
    assert {status for status, _ in statuses(failed)} == {Status.SENT}
    assert paid.detail == ""


@pytest.mark.django_db
def test_an_event_with_its_own_cancel_key_is_cancelled_by_that_key_only(tenant):
    [failed] = process_events([{**event("invoice.payment.failed", "f-1"), "cancel_key": "dunning-1"}])
    process_events([event("invoice.payment.succeeded", "p-1")])
    assert {status for status, _ in statuses(failed)} == {Status.PENDING}


@pytest.mark.django_db
def test_a_tenant_switches_a_builtin_rule_off_and_adds_its_own(tenant):
    tenant.settings = {"cancels": {"invoice.payment.succeeded": [],
                                   "task.assigned": [{"event_type": "task.assigned", "match": ["task_id"]}]}}
    tenant.full_clean()
    tenant.save()
    [failed] = process_events([event("invoice.payment.failed", "f-1")])
    [first] = process_events([event("task.assigned", "t-1", task_id="T-1")])
    [other] = process_events([event("task.assigned", "t-2", task_id="T-2")])
    process_events([event("invoice.payment.succeeded", "p-1"), event("task.assigned", "t-3", task_id="T-1")])

    assert {status for status, _ in statuses(failed)} == {Status.PENDING}
    assert statuses(first) == {SUPERSEDED, (Status.SENT, "")}  # in-app was delivered at intake already
    assert (Status.CANCELLED, "superseded") not in statuses(other)


@pytest.mark.django_db
def test_another_tenants_rules_and_records_are_its_own(tenant):
    Tenant.objects.create(id="globex", name="Globex", settings={"cancels": {"auth.2fa.code.requested": []}})
    [acme_code] = process_events([event("auth.2fa.code.requested", "c-1")])
    [globex_old] = process_events([event("auth.2fa.code.requested", "g-1", "globex")])
    process_events([event("auth.2fa.code.requested", "g-2", "globex")])

    assert statuses(acme_code) == {(Status.PENDING, "")}  # the same user id in another tenant
    assert statuses(globex_old) == {(Status.PENDING, "")}  # globex switched the rule off


@pytest.mark.django_db
def test_rules_stored_around_the_checks_are_ignored_at_intake_never_a_failure(tenant):
    Tenant.objects.filter(pk="acme").update(settings={"cancels": {"auth.2fa.code.requested": [
        {"event_type": 5, "match": "user_id"}, "junk"], "invoice.payment.succeeded": "junk", "7": None}})
    [old] = process_events([event("auth.2fa.code.requested", "c-1")])
    [new] = process_events([event("auth.2fa.code.requested", "c-2")])
    assert new.outcome == Outcome.PROCESSED
    assert statuses(old) == {(Status.PENDING, "")}  # the tenant's (broken) entry replaced the built-in rule
    assert rules_for({"cancels": "junk"}) == rules_for({})


def test_the_key_is_made_of_the_matched_fields_and_stays_within_its_column():
    assert supersede_key("invoice.payment.failed", ("invoice_id",), "u-1", {"invoice_id": "INV-1"}) == (
        'supersede:invoice.payment.failed:["INV-1"]')
    assert supersede_key("x", ("invoice_id",), "u-1", {}) is None  # nothing to match on: nothing superseded
    assert supersede_key("x", ("invoice_id",), "u-1", {"invoice_id": {"a": 1}}) is None
    assert supersede_key("x", ("user_id",), "", {"user_id": "u-1"}) is None  # the event's user, not the payload's
    long = supersede_key("x", ("a",), "", {"a": "é" * 500})
    assert long is not None and len(long) <= KEY_LENGTH and long == supersede_key("x", ("a",), "", {"a": "é" * 500})
    assert supersede_key("x", ("a", "b"), "", {"a": "1,2", "b": "3"}) != supersede_key(
        "x", ("a", "b"), "", {"a": "1", "b": "2,3"})


@pytest.mark.parametrize(("value", "where", "words"), [
    ([], "cancels", "must be an object"),
    ({"x.y": {}}, "cancels['x.y']", "must be a list"),
    ({"x.y": [{"event_type": "a.b"}]}, "cancels['x.y'][0]", "must be {"),
    ({"x.y": [{"event_type": "a.b", "match": []}]}, "cancels['x.y'][0]", "1 to 5"),
    ({"x.y": [{"event_type": "a.b", "match": ["a b"]}]}, "cancels['x.y'][0]", "field names"),
    ({"x.y": [{"event_type": "a.b", "match": ["id", "id"]}]}, "cancels['x.y'][0]", "distinct"),
    ({"x.y": [{"event_type": "a.b", "match": ["id"], "more": 1}]}, "cancels['x.y'][0]", "must be {"),
    ({"": []}, "cancels", "non-empty strings"),
    ({"x\x00": []}, "cancels", "non-empty strings"),
    ({"x.y": [{"event_type": "invoice.payment.failed", "match": ["user_id"]}]}, "cancels['x.y']",
     "must match on the same fields"),
])
def test_bad_rules_are_refused_naming_the_entry(value, where, words):
    problems = cancels_problems(value)
    assert where in problems and words in problems[where], problems


def test_good_rules_pass_and_the_order_of_match_fields_does_not_matter():
    assert cancels_problems({"x.y": [{"event_type": "invoice.payment.failed", "match": ["invoice_id"]}],
                             "a.b": [{"event_type": "c.d", "match": ["b", "a"]}],
                             "e.f": [{"event_type": "c.d", "match": ["a", "b"]}]}) == {}


@pytest.mark.django_db
def test_the_tenant_model_refuses_bad_rules_on_save(tenant):
    tenant.settings = {"cancels": {"x.y": "all"}}
    with pytest.raises(ValidationError, match="must be a list"):
        tenant.full_clean()


@pytest.mark.django_db
def test_the_settings_api_takes_rules_and_refuses_bad_ones(api_a):
    good = {"cancels": {"task.assigned": [{"event_type": "task.assigned", "match": ["task_id"]}]}}
    response = api_a.put("/tenant/settings", good)
    assert response.status_code == 200, response.content
    assert response.json()["settings"]["cancels"] == good["cancels"]
    bad = api_a.put("/tenant/settings", {"cancels": {"task.assigned": [{"event_type": "task.assigned"}]}})
    assert bad.status_code == 422 and "cancels['task.assigned'][0]" in bad.json()["detail"], bad.content
