"""The issue's test: "3,000 events of one tenant interleaved with a hostile tenant's events take within 20% of
the time they take alone". Real intake (`process_events`) in batches of 500 as the Kafka consumer takes them;
the hostile tenant's events trigger every intake-time failure we can make: absurd settings stored directly in the
database (past the API's checks), in-app templates that raise (division by zero, a call on an undefined name,
unbounded macro recursion), and payloads that make a handler raise in planning, reading contacts or rendering."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from itertools import count
from typing import Any

import pytest

from notifications.enums import Outcome, RejectionReason
from notifications.intake.results import IntakeResult
from notifications.intake.service import process_events
from notifications.models import NotificationTemplate
from notifications.tenants.models import Tenant
from notifications.testing import make_event
from tests.intake.hostile import hostile_event, hostile_handler

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

GOOD, EVIL = "good-co", "evil-co"
# Eleven runs of each, alternating. The hostile tenant's own work is about 11 ms a batch of 500 (its rate-limit
# read, three rejections stored, two renders stopped by the budget, its failed events' rows removed: measured
# 2026-12-06), some 19% of the batch: this test watches that it stays so.
EVENTS, BATCH, RUNS = 3000, 500, 11
ABSURD = {"limit": 1, "per_seconds": 10**12}  # a window no datetime can hold
# Timer resolution and scheduling on a shared machine, for runs of about 0.4 s: the tolerance is 20% of the
# time alone plus this.
SLACK_SECONDS = 0.05
_serial = count()
NESTED_LOOPS = "{% for a in range(100000) %}{% for b in range(100000) %}{{ a * b }}{% endfor %}{% endfor %}"


def _setup_hostile_tenant() -> None:
    Tenant.ensure([GOOD, EVIL])
    Tenant.objects.filter(id=EVIL).update(settings={  # stored directly: no validation on this path
        "rate_limits": {kind: {"*": ABSURD} for kind in ("task.assigned", "content.liked", "comment.mentioned")},
        "disabled_channels": {"user.login.failed": 5},  # not a list of channels
    })
    templates = {
        "task_assigned_in_app": "{{ 1/0 }}",
        "content_liked_in_app": "{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}",
        "comment_mentioned_in_app": "{{ nothing.there() }}",
        # Minutes of work without the render budget (rendering/budget.py): it fails fast, and only its record.
        "user_registration_completed_in_app": NESTED_LOOPS,
    }
    NotificationTemplate.objects.bulk_create([  # stored directly: no save-time checks
        NotificationTemplate(tenant_id=EVIL, name=name, channel="in_app", placeholders=[],
                             content={"title": "t", "body": body, "action_url": ""})
        for name, body in templates.items()
    ])


def _good_events(run: int) -> list[dict[str, Any]]:
    return [make_event("task.assigned", GOOD, task_id=f"T-{run}-{n}", user_id=f"u-{n % 200}") if n % 2 else
            make_event("content.liked", GOOD, content_id=f"P-{run}-{n}", user_id=f"u-{n % 200}")
            for n in range(EVENTS)]


def _hostile_events() -> list[dict[str, Any]]:
    """One of each failure; fresh ids, so none is a duplicate of an earlier run's."""
    n = next(_serial)
    user = f"x-{n}"  # a new user each time: its rate limit (one per window) lets the first notification through
    return [
        make_event("task.assigned", EVIL, task_id=f"E-{n}", user_id=user),
        make_event("content.liked", EVIL, content_id=f"E-{n}", user_id=user),
        make_event("comment.mentioned", EVIL, comment_id=f"E-{n}", user_id=user),
        make_event("user.login.failed", EVIL, location=f"E-{n}", user_id=user),
        make_event("user.registration.completed", EVIL, username=f"E-{n}", user_id=user),
        hostile_event(f"plan-runtime-{n}", EVIL, user_id=user),
        hostile_event(f"contact-memory-{n}", EVIL, user_id=user),
        hostile_event(f"inbox-recursion-{n}", EVIL, user_id=user),
    ]


def _interleaved(good: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Each 500 good events with the hostile tenant's eight spread among them."""
    for start in range(0, len(good), BATCH):
        chunk = good[start:start + BATCH]
        hostile = _hostile_events()
        step = len(chunk) // len(hostile)
        for i, event in enumerate(chunk):
            if i % step == 0 and i // step < len(hostile):
                yield hostile[i // step]
            yield event


def _take_in(stream: list[dict[str, Any]]) -> tuple[float, list[IntakeResult]]:
    # Each run starts from a collected heap: a full collection of the test process's heap (~80 ms, far larger
    # than a consumer's) otherwise lands in whichever run happens to cross the threshold.
    gc.collect()
    started = time.perf_counter()
    results: list[IntakeResult] = []
    for start in range(0, len(stream), BATCH):
        results += process_events(stream[start:start + BATCH], source="kafka")
    return time.perf_counter() - started, results


def _check_good(results: list[IntakeResult]) -> None:
    assert len(results) == EVENTS
    assert {r.outcome for r in results} == {Outcome.PROCESSED}
    assert all(any(rec.channel == "in_app" and rec.status == "sent" for rec in r.records) for r in results)


def _check_hostile(results: list[IntakeResult]) -> None:
    for result in results:
        if result.outcome == Outcome.REJECTED:
            assert result.reason == RejectionReason.PROCESSING_ERROR, str(result)
        else:
            assert result.outcome == Outcome.PROCESSED, str(result)
            assert ("in_app", "failed", "render_error") in {(r.channel, r.status, r.reason) for r in result.records}


def test_a_tenants_3000_events_take_as_long_beside_a_hostile_tenant_as_alone(settings):
    settings.LOGGING_CONFIG = None
    _setup_hostile_tenant()
    alone: list[float] = []
    beside: list[float] = []
    with hostile_handler():
        _take_in(_good_events(-1)[:BATCH])  # warm-up: caches, compiled templates, the tables' first pages
        for run in range(RUNS):  # alternating, so a drift of the machine or the tables weighs on both alike
            seconds, results = _take_in(_good_events(2 * run))
            _check_good(results)
            alone.append(seconds)
            stream = list(_interleaved(_good_events(2 * run + 1)))
            seconds, results = _take_in(stream)
            _check_good([r for r in results if r.tenant_id == GOOD])
            hostile = [r for r in results if r.tenant_id == EVIL]
            assert len(hostile) == 8 * (EVENTS // BATCH)
            _check_hostile(hostile)
            beside.append(seconds)

    # Each beside-run against the alone-run just before it (the machine's load drifts: CI's runs alone ranged
    # 0.37-0.50 s in one test), and the middle of those pairs: one run the machine disturbed, or favoured (CI
    # failed twice on the fastest of each, once on an alone-run 17% faster than the next fastest), moves neither.
    excess = sorted(b - 1.2 * a for a, b in zip(alone, beside, strict=True))
    middle = excess[len(excess) // 2]
    print(f"\n3,000 events alone {sorted(alone)[RUNS // 2]:.3f} s, beside a hostile tenant "
          f"{sorted(beside)[RUNS // 2]:.3f} s (medians); beside minus 1.2 x alone, pair by pair, middle "
          f"{middle:+.3f} s; runs alone {alone}, beside {beside}")
    assert middle <= SLACK_SECONDS
