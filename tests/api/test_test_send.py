"""Template test sends: exactly one address, validated for the template's channel, and a per-tenant budget
answered with 429 and Retry-After beyond it (on a controlled clock)."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.api import throttle

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock(1_800_000_000.0)  # the start of a minute
    monkeypatch.setattr(throttle.test_sends, "clock", clock)
    return clock


def _template(api, channel: str) -> int:
    name = {"email": "user_login_succeeded_email", "sms": "user_login_failed_sms"}[channel]
    content = {"email": {"subject": "Hello {{ company_name }}", "body": "x"}, "sms": {"body": "Hi"}}[channel]
    created = api.post("/templates", {"name": name, "channel": channel, "content": content})
    assert created.status_code == 201, created.content
    return created.json()["id"]


@pytest.mark.parametrize("to", [
    "a@example.com, b@example.com", "a@example.com;b@example.com", "a@example.com b@example.com",
    "Ann <a@example.com>", "a@example.com\nBcc: b@example.com", "+14155550123", "",
])
def test_email_test_send_takes_exactly_one_address(api_a, clock, to):
    template = _template(api_a, "email")
    answer = api_a.post(f"/templates/{template}/test", {"to": to})
    assert answer.status_code == 422, answer.content
    assert not mail.outbox


def test_a_list_of_recipients_is_refused(api_a, clock):
    template = _template(api_a, "email")
    answer = api_a.post(f"/templates/{template}/test", {"to": ["a@example.com", "b@example.com"]})
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"][-1] == "to"
    assert not mail.outbox


@pytest.mark.parametrize("to", ["4155550123", "+0123456789", "+1415555012345678", "a@example.com",
                                "+14155550123,+14155550124"])
def test_sms_test_send_takes_one_e164_number(api_a, clock, to):
    template = _template(api_a, "sms")
    assert api_a.post(f"/templates/{template}/test", {"to": to}).status_code == 422


def test_sms_test_send_accepts_one_e164_number(api_a, clock):
    template = _template(api_a, "sms")
    answer = api_a.post(f"/templates/{template}/test", {"to": "+1 (415) 555-0123"})
    assert answer.status_code == 200, answer.content


def test_test_sends_are_limited_per_tenant_with_retry_after(api_a, api_b, clock, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "TEST_SENDS_PER_MINUTE": 3}
    template = _template(api_a, "email")
    other = _template(api_b, "email")
    clock.now += 15  # 45 s left in this minute

    answers = [api_a.post(f"/templates/{template}/test", {"to": "qa@acme.example.com"}) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[-1]["Retry-After"] == "45" and "test sends" in answers[-1].json()["detail"]
    assert len(mail.outbox) == 3
    # A bad address is refused before the budget: 422, not 429.
    assert api_a.post(f"/templates/{template}/test", {"to": "nope"}).status_code == 422
    # Another tenant has its own budget.
    assert api_b.post(f"/templates/{other}/test", {"to": "qa@globex.example.com"}).status_code == 200

    clock.now += 45  # the next minute
    assert api_a.post(f"/templates/{template}/test", {"to": "qa@acme.example.com"}).status_code == 200
    assert len(mail.outbox) == 5


def test_the_default_budget_is_ten_a_minute(api_a, clock):
    template = _template(api_a, "email")
    codes = [api_a.post(f"/templates/{template}/test", {"to": "qa@acme.example.com"}).status_code
             for _ in range(11)]
    assert codes == [200] * 10 + [429]
