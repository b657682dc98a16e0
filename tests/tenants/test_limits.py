"""Tenant settings, branding and identities bounded: the API, the admin (Tenant.clean) and intake's limiter."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from notifications.events.registry import event_registry
from notifications.models import NotificationRecord
from notifications.tenants.limits import (
    RATE_LIMIT_MAX,
    RATE_WINDOW_MAX_SECONDS,
    clamped_rule,
    rate_rule_problem,
    settings_problems,
)
from notifications.tenants.models import TENANT_ID_PATTERN, Tenant, validate_tenant_id
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

ABSURD_RULES = [
    {"limit": 1, "per_seconds": 10**30},
    {"limit": 10**30, "per_seconds": 60},
    {"limit": -5, "per_seconds": -5},
    {"limit": 1, "per_seconds": "soon"},
    {"limit": 1.5e300},
    "ten",
]


@pytest.mark.parametrize("rule", [
    {"limit": 0}, {"limit": RATE_LIMIT_MAX + 1}, {"limit": 1, "per_seconds": 0},
    {"limit": 1, "per_seconds": RATE_WINDOW_MAX_SECONDS + 1}, {"limit": 1, "per_seconds": 10**30},
    {"limit": True}, {"limit": 1, "window": 5}, {"per_seconds": 5},
])
def test_rules_out_of_range_are_refused(rule):
    assert rate_rule_problem(rule)


def test_rules_in_range_are_kept():
    assert rate_rule_problem({"limit": 1, "per_seconds": 1}) is None
    assert rate_rule_problem({"limit": RATE_LIMIT_MAX, "per_seconds": RATE_WINDOW_MAX_SECONDS}) is None
    assert clamped_rule({"limit": 10**30, "per_seconds": 10**30}) == (RATE_LIMIT_MAX, RATE_WINDOW_MAX_SECONDS)
    assert clamped_rule({"limit": -3, "per_seconds": 0}) == (1, 1)
    assert clamped_rule({"per_seconds": 5}) is None and clamped_rule("ten") is None


def test_api_refuses_an_absurd_window_naming_it(api_a, tenant):
    answer = api_a.put("/tenant/settings", {"rate_limits": {"content.liked": {"push": {"limit": 10,
                                                                                     "per_seconds": 10**30}}}})
    assert answer.status_code == 422
    assert "per_seconds" in str(answer.json()["detail"])
    assert "rate_limits" not in Tenant.objects.get(id="acme").settings


def test_api_refuses_unknown_channels_and_accepts_the_documented_range(api_a, tenant):
    bad = api_a.put("/tenant/settings", {"disabled_channels": {"content.liked": ["fax"]}})
    assert bad.status_code == 422 and "fax" in bad.json()["detail"]
    good = api_a.put("/tenant/settings", {"rate_limits": {"content.liked": {"*": {
        "limit": RATE_LIMIT_MAX, "per_seconds": RATE_WINDOW_MAX_SECONDS}}}})
    assert good.status_code == 200, good.content
    assert good.json()["settings"]["rate_limits"]["content.liked"]["*"]["per_seconds"] == RATE_WINDOW_MAX_SECONDS


def test_model_clean_refuses_what_the_admin_could_save(tenant):
    tenant.settings = {"rate_limits": {"content.liked": {"push": {"limit": 1, "per_seconds": 10**30}}}}
    with pytest.raises(ValidationError) as raised:
        tenant.full_clean()
    assert "settings" in raised.value.message_dict
    tenant.settings = {}
    tenant.branding = {"primary_color": "red; background:url(x)", "logo_url": "javascript:alert(1)",
                       "support_email": "not mail", "company_name": "x" * 1001}
    with pytest.raises(ValidationError) as raised:
        tenant.full_clean()
    text = " ".join(raised.value.message_dict["branding"])
    for key in ("primary_color", "logo_url", "support_email", "company_name"):
        assert key in text
    tenant.branding = {"primary_color": "#0a7", "logo_url": "https://acme.example.com/logo.png"}
    tenant.full_clean()


def test_admin_form_refuses_an_absurd_window(admin_client, tenant):
    url = f"/admin/notifications/tenant/{tenant.pk}/change/"
    form = {"id": tenant.id, "name": "Acme", "app_url": "", "branding": "{}"}
    absurd = '{"rate_limits": {"content.liked": {"push": {"limit": 1, "per_seconds": 1e30}}}}'
    answer = admin_client.post(url, {**form, "settings": absurd})
    assert answer.status_code == 200 and b"per_seconds must be an integer from 1 to" in answer.content
    assert Tenant.objects.get(id="acme").settings == {}
    fine = '{"rate_limits": {"content.liked": {"push": {"limit": 1, "per_seconds": 60}}}}'
    assert admin_client.post(url, {**form, "settings": fine}).status_code == 302
    assert Tenant.objects.get(id="acme").settings["rate_limits"]["content.liked"]["push"]["per_seconds"] == 60


def test_branding_api_bounds_keys_values_and_colours(api_a, tenant):
    assert api_a.patch("/tenant", {"branding": {"primary_color": "#12345g"}}).status_code == 422
    assert api_a.patch("/tenant", {"branding": {f"k{i}": "x" for i in range(21)}}).status_code == 422
    assert api_a.patch("/tenant", {"branding": {"bad key": "x"}}).status_code == 422
    ok = api_a.patch("/tenant", {"branding": {"primary_color": "#112233", "company_name": "Acme"}})
    assert ok.status_code == 200 and ok.json()["branding"]["primary_color"] == "#112233"


@pytest.mark.parametrize("rule", ABSURD_RULES)
def test_intake_never_overflows_on_a_stored_absurd_rule(tenant, rule):
    """A value already in the database (saved before the bounds, or around them) is read clamped: the event is
    processed, and the limit still applies."""
    Tenant.objects.filter(id="acme").update(settings={"rate_limits": {"content.liked": {"*": rule}}})
    results = [event_registry.process_event(make_event("content.liked", event_id=f"like-{i}")) for i in range(3)]
    assert [r.outcome.value for r in results] == ["processed"] * 3
    statuses = list(NotificationRecord.objects.filter(channel="in_app").values_list("status", flat=True))
    assert len(statuses) == 3


def test_a_clamped_window_still_limits(tenant):
    Tenant.objects.filter(id="acme").update(settings={"rate_limits": {"content.liked": {
        "in_app": {"limit": 1, "per_seconds": 10**30}}}})
    for i in range(2):
        event_registry.process_event(make_event("content.liked", event_id=f"like-{i}"))
    reasons = sorted(NotificationRecord.objects.filter(channel="in_app").values_list("reason", flat=True))
    assert reasons == ["", "rate_limited"]


@pytest.mark.parametrize("value", ["acme\n", "acme\r\n", "\nacme", "acme\x00", "acme ", "a" * 65, ""])
def test_tenant_ids_are_matched_to_their_end(value):
    assert not TENANT_ID_PATTERN.match(value)
    with pytest.raises(ValidationError):
        validate_tenant_id(value)


def test_an_event_for_tenant_with_a_trailing_newline_is_rejected(tenant):
    result = event_registry.process_event(make_event("content.liked", "acme\n"))
    assert result.outcome.value == "rejected" and result.reason.value == "invalid_field"
    assert list(Tenant.objects.values_list("id", flat=True)) == ["acme"]


@pytest.mark.parametrize(("value", "key", "words"), [
    ({"default_timezone": "Mars/Olympus"}, "default_timezone", "unknown time zone 'Mars/Olympus'"),
    ({"default_timezone": 1}, "default_timezone", "IANA time zone"),
    ({"quiet_hours": {"start": "22:00", "end": "7:00"}}, "quiet_hours.end", "must be HH:MM"),
    ({"quiet_hours": []}, "quiet_hours", "must be an object"),
])
def test_time_settings_out_of_shape_are_named(value, key, words):
    problems = settings_problems(value)
    assert words in problems[key]


def test_time_settings_in_shape_are_kept(tenant):
    tenant.settings = {"default_timezone": "Europe/Berlin", "quiet_hours": {"start": "22:00", "end": "07:00",
                                                                             "channels": ["push"]}}
    tenant.full_clean()
    assert settings_problems({"default_timezone": "", "quiet_hours": {}}) == {}


def test_admin_form_refuses_a_bad_quiet_hours_window(admin_client, tenant):
    url = f"/admin/notifications/tenant/{tenant.pk}/change/"
    form = {"id": tenant.id, "name": "Acme", "app_url": "", "branding": "{}"}
    answer = admin_client.post(url, {**form, "settings": '{"quiet_hours": {"start": "22h", "end": "07:00"}}'})
    assert answer.status_code == 200 and b"quiet_hours.start: must be HH:MM" in answer.content
    assert Tenant.objects.get(id="acme").settings == {}
