"""One event's failure at intake stays with that event (notifications/intake/isolation.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.utils import OperationalError

from notifications.enums import Outcome, RejectionReason
from notifications.events.models import Event, RejectedEvent
from notifications.intake import dedupe, service
from notifications.intake.isolation import take_in_halves
from notifications.intake.results import IntakeResult
from notifications.intake.service import process_events
from notifications.models import NotificationRecord
from tests.intake.hostile import SECRET_IN_ERROR, good_event, hostile_event, hostile_handler

pytestmark = pytest.mark.django_db


@pytest.fixture
def transactions(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches intake ran in a transaction of their own (one _take_in call each)."""
    sizes: list[int] = []
    real = service._take_in

    def counted(parsed: Any, sources: Any, origins: Any) -> list[IntakeResult]:
        sizes.append(len(parsed))
        return real(parsed, sources, origins)

    monkeypatch.setattr(service, "_take_in", counted)
    return sizes


@pytest.mark.parametrize("failure", ["plan-runtime", "plan-memory", "plan-recursion", "contact-runtime"])
def test_an_event_whose_planning_raises_is_rejected_and_the_rest_go_in_together(tenant, transactions, failure):
    batch = [good_event(n) for n in range(10)] + [hostile_event(failure)] + [good_event(n) for n in range(10, 20)]

    with hostile_handler():
        results = process_events(batch, origins=[{"offset": n} for n in range(len(batch))])

    assert transactions == [len(batch)]  # one transaction: the batch, not one per event
    bad = results[10]
    assert (bad.outcome, bad.reason) == (Outcome.REJECTED, RejectionReason.PROCESSING_ERROR)
    error_type = {"memory": "MemoryError", "recursion": "RecursionError"}.get(failure.split("-")[1], "RuntimeError")
    assert bad.detail == f"taking the event in failed: {error_type}"
    stored = RejectedEvent.objects.get(pk=bad.rejected_id)
    assert (stored.reason, stored.event_type, stored.origin) == ("processing_error", "hostile.task", {"offset": 10})
    assert SECRET_IN_ERROR not in stored.detail + stored.original_redacted
    good = results[:10] + results[11:]
    assert {result.outcome for result in good} == {Outcome.PROCESSED}
    # The rejected event leaves nothing behind: no archived event (a redelivery is not a duplicate), no record.
    assert Event.objects.count() == 20
    assert not NotificationRecord.objects.filter(event_type="hostile.task").exists()
    assert NotificationRecord.objects.filter(event_type="task.assigned").count() == 20 * 3


def test_the_same_event_redelivered_after_its_rejection_is_rejected_again_not_a_duplicate(tenant):
    with hostile_handler():
        first = process_events([hostile_event("plan-runtime")])
        second = process_events([hostile_event("plan-runtime")])

    assert [r.reason for r in first + second] == [RejectionReason.PROCESSING_ERROR] * 2


def test_a_batch_mate_with_the_key_of_a_failed_event_is_rejected_too_not_a_duplicate_of_nothing(tenant):
    """Two events share an event_id: the first is named the original, the second its duplicate; when the
    first's planning then fails, the second must not stay a duplicate of an event that is not kept."""
    failing = {**hostile_event("plan-runtime"), "event_id": "same-1"}
    fine = {**hostile_event("fine"), "event_id": "same-1"}

    with hostile_handler():
        first, second = process_events([failing, fine])
        assert first.outcome == second.outcome == Outcome.REJECTED
        assert second.reason == RejectionReason.PROCESSING_ERROR and second.rejected_id
        assert not Event.objects.filter(event_id="same-1").exists()
        # Nothing is lost: the stored rejection of the second can be taken in again.
        [again] = process_events([fine])
    assert again.outcome == Outcome.PROCESSED


def test_a_database_outage_is_not_one_events_failure(tenant, monkeypatch):
    """The consumer retries the batch when the database is away: that error must reach it."""
    from tests.intake.hostile import HostileHandler

    def away(self: Any, event_type: str, payload: dict[str, Any]) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(HostileHandler, "get_channels", away)
    with hostile_handler(), pytest.raises(OperationalError):
        process_events([good_event(1), hostile_event("T-1")])


def test_a_batch_wide_failure_is_retried_in_halves_not_one_event_at_a_time(tenant, transactions, monkeypatch):
    """A step run for the whole batch (here the sealing of secrets, made to fail for one event) cannot be
    guarded per event: the batch is split in halves until the bad event is alone, O(log n) transactions."""
    real_seal = dedupe.seal_fields

    def seal(payload: dict[str, Any], fields: Any, ring: Any = None) -> dict[str, Any]:
        if payload.get("task_id") == "T-bad":
            raise ValueError("cannot seal")
        return real_seal(payload, fields, ring)

    monkeypatch.setattr(dedupe, "seal_fields", seal)
    batch = [good_event(n) for n in range(64)]
    batch[37] = make_bad = good_event(37)
    make_bad["payload"]["task_id"] = "T-bad"

    results = process_events(batch)

    assert results[37].reason == RejectionReason.PROCESSING_ERROR and "ValueError" in results[37].detail
    assert [r.outcome for i, r in enumerate(results) if i != 37] == [Outcome.PROCESSED] * 63
    assert Event.objects.count() == 63
    # 64 -> 32 -> 16 -> 8 -> 4 -> 2 -> 1: the failed halves, their good siblings, and the event's rejection.
    assert len(transactions) <= 2 * 6 + 2, transactions
    assert sum(size for size in transactions[1:] if size > 1) < 2 * 64


def test_halving_finds_each_bad_event_in_logarithmic_steps():
    bad = {5, 700}
    calls: list[int] = []

    def take_in(parsed: Any, sources: Any, origins: Any) -> list[IntakeResult]:
        calls.append(len(parsed))
        if bad & set(parsed):
            raise ValueError("one of them is bad")
        return [IntakeResult(outcome=Outcome.PROCESSED, event_id=str(n)) for n in parsed]

    def alone(item: Any, source: str, origin: Any) -> IntakeResult:  # as service._take_in_alone does
        try:
            return take_in([item], [source], None)[0]
        except ValueError:
            return IntakeResult(outcome=Outcome.REJECTED, event_id=str(item), detail=source)

    items = list(range(1000))
    results = take_in_halves(items, ["src"] * 1000, None, take_in, alone)  # type: ignore[arg-type]

    assert [r.event_id for r in results] == [str(n) for n in items]  # in order
    assert [n for n, r in enumerate(results) if r.outcome == Outcome.REJECTED] == sorted(bad)
    assert len(calls) <= 1 + 2 * 2 * 10  # the batch; two bad events, ten halvings each, two halves a step


def test_a_tenant_whose_rate_limits_cannot_be_read_fails_only_its_own_events(tenant, transactions, monkeypatch):
    """Reading the batch's rate limits is one step for all tenants; when one tenant's stored rules break it,
    they are read tenant by tenant and only that tenant's events fail."""
    from notifications.intake.ratelimits import RateLimiter
    from notifications.tenants.models import Tenant

    Tenant.ensure(["evil"])
    Tenant.objects.filter(id="evil").update(  # stored directly, past the API's checks
        settings={"rate_limits": {"task.assigned": {"*": {"limit": 1, "per_seconds": 10**12}}}})
    real_load = RateLimiter.load.__func__

    def load(cls: type, tenants: Any, keys: Any) -> RateLimiter:
        keys = list(keys)
        if any(tenant_id == "evil" for tenant_id, _, _ in keys):
            raise OverflowError("date value out of range")  # what an unbounded window did before bounds
        return real_load(cls, tenants, keys)

    monkeypatch.setattr(RateLimiter, "load", classmethod(load))
    batch = [good_event(n) for n in range(5)] + [good_event(5, tenant_id="evil")] + [good_event(6)]

    results = process_events(batch)

    assert transactions == [7]
    assert results[5].reason == RejectionReason.PROCESSING_ERROR and "OverflowError" in results[5].detail
    assert [r.outcome for i, r in enumerate(results) if i != 5] == [Outcome.PROCESSED] * 6


def test_an_absurd_rate_limit_stored_in_the_database_does_not_hold_up_other_tenants(tenant, transactions):
    from notifications.tenants.models import Tenant

    Tenant.ensure(["evil"])
    Tenant.objects.filter(id="evil").update(
        settings={"rate_limits": {"task.assigned": {"*": {"limit": 1, "per_seconds": 10**12}}}})

    results = process_events([good_event(1), good_event(2, tenant_id="evil"), good_event(3)])

    assert transactions == [3]
    assert results[0].outcome == results[2].outcome == Outcome.PROCESSED
    assert results[1].outcome == Outcome.PROCESSED or results[1].reason == RejectionReason.PROCESSING_ERROR
