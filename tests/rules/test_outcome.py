"""An outcome's channels and the route a record carries to the worker (written only when a rule sets one, read
back defensively)."""

from __future__ import annotations

from notifications.rules.outcome import MAX_ROUTE, Outcome, read_route


def test_channels_remove_then_add_once():
    outcome = Outcome(add=["sms", "email"], remove={"push"})
    assert outcome.channels(["email", "push"], mandatory=False) == ["email", "sms"]
    assert outcome.channels(["email", "push"], mandatory=True) == ["email", "push", "sms"]


def test_a_route_is_written_only_when_set_and_read_back():
    outcome = Outcome(provider={"sms": "backup"}, template={"sms": "t", "email": "vip"})
    assert outcome.route("push") is None
    assert read_route(outcome.route("sms")) == {"provider": "backup", "template": "t"}
    assert read_route(outcome.route("email")) == {"template": "vip"}
    assert len(Outcome(provider={"sms": "x" * 1000}).route("sms") or "") == MAX_ROUTE


def test_a_route_that_is_not_one_reads_as_none():
    for text in (None, "", "not json", "[1]", '{"provider": 5, "other": "x"}', '{"provider": "ok", "x": 1}'):
        assert set(read_route(text)) <= {"provider"}
    assert read_route('{"provider": "ok"}') == {"provider": "ok"}


def test_the_skip_detail_names_the_rule():
    assert Outcome(skip=("quiet", "in-app only")).skip_detail() == "rule 'quiet': in-app only"
