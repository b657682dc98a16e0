"""Batch intake, as a flow. One call = one database transaction, a fixed number of queries whatever the batch
size: parse -> store rejections -> dedupe/insert events -> resolve contacts -> plan records -> deliver in-app ->
write records -> cancels and supersedes -> purge secrets -> results and metrics. Each step lives in the module
named on its import."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.utils import InterfaceError, OperationalError
from django.utils import timezone

from notifications.audiences.intake import record_fanouts, refuse_unknown_audiences
from notifications.channels.in_app import render_inbox, write_inbox
from notifications.events.envelope import EventRejection, ValidatedEvent
from notifications.events.registry import event_registry
from notifications.intake.cancels import BatchCancels, refuse_timed_cancels
from notifications.intake.contacts import resolve_contacts
from notifications.intake.counting import count_records, count_results
from notifications.intake.dedupe import insert_new_events
from notifications.intake.isolation import Failures, rejection_for, take_in_halves
from notifications.intake.keys import new_uuid_texts
from notifications.intake.planning import planner_for
from notifications.intake.records import processed_results, write_records
from notifications.intake.rejections import store_rejections, validate_all
from notifications.intake.results import IntakeResult
from notifications.intake.secrets import purge_if_final, remember_secrets
from notifications.observability import metrics
from notifications.scheduling.timing import refuse_delayed_critical
from notifications.tenants.models import Tenant

__all__ = ["IntakeResult", "new_uuid_texts", "process_events"]

logger = logging.getLogger(__name__)

Parsed = ValidatedEvent | EventRejection


def process_events(
    raw_events: Sequence[Any],
    *,
    source: str | Sequence[str] = "local",
    origins: Sequence[dict[str, Any]] | None = None,
) -> list[IntakeResult]:
    """Take in a batch of raw events (bytes, str or dict). Never raises for bad events: each gets a result.

    `source` names where the events came from (one for all, or one per event: a Kafka batch spans topics);
    `origins` carries per-event details kept with rejections (topic, partition, offset)."""
    started = time.perf_counter()
    sources = [source] * len(raw_events) if isinstance(source, str) else list(source)
    parsed = validate_all(raw_events, event_registry)
    remember_secrets(parsed)
    try:
        final = _take_in(parsed, sources, origins)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the caller retries the whole batch
    except Exception as err:  # noqa: BLE001 - one event must not sink the others
        logger.error("intake batch of %d failed (%s): taking it in halves", len(parsed), type(err).__name__)
        final = take_in_halves(parsed, sources, origins, _take_in, _take_in_alone)
    count_results(final)
    metrics.INTAKE_BATCH_SECONDS.observe(time.perf_counter() - started)
    return final


def _take_in(parsed: Sequence[Parsed], sources: Sequence[str], origins: Sequence[dict[str, Any]] | None,
             ) -> list[IntakeResult]:
    """One transaction: the batch's rejections stored, its valid events accepted, and the events whose own
    steps failed stored as rejections instead."""
    results: list[IntakeResult | None] = [None] * len(parsed)
    with transaction.atomic():
        rejections = [(i, p) for i, p in enumerate(parsed) if isinstance(p, EventRejection)]
        if rejections:
            store_rejections(rejections, results, sources, origins)
        valid = [(i, p) for i, p in enumerate(parsed) if isinstance(p, ValidatedEvent)]
        failed = _accept(valid, results, sources) if valid else []
        if failed:
            store_rejections(failed, results, sources, origins)
    final = [result for result in results if result is not None]
    if len(final) != len(parsed):  # every event is stored or rejected; anything else is a bug here
        raise RuntimeError(f"intake produced {len(final)} results for {len(parsed)} events")
    return final


def _take_in_alone(item: Parsed, source: str, origin: dict[str, Any] | None) -> IntakeResult:
    origins = [origin] if origin else None
    try:
        return _take_in([item], [source], origins)[0]
    except (OperationalError, InterfaceError):
        raise
    except Exception as err:  # noqa: BLE001 - becomes a stored rejection, with the error's type only
        return _take_in([rejection_for(item, err)], [source], origins)[0]


def _accept(
    valid: list[tuple[int, ValidatedEvent]], results: list[IntakeResult | None], sources: Sequence[str]
) -> list[tuple[int, EventRejection]]:
    """Takes in the valid events; returns those whose own steps failed, as rejections to store instead."""
    tenants = Tenant.ensure({event.tenant_id for _, event in valid})
    valid, refused = refuse_delayed_critical(valid, tenants)  # a 2FA code asking to wait (scheduling.timing)
    valid, timed = refuse_timed_cancels(valid)  # a notification.cancel asking to wait (intake.cancels)
    valid, unknown, topics = refuse_unknown_audiences(valid, tenants)  # an audience not set up (audiences.intake)
    refused += timed + unknown
    accepted = insert_new_events(valid, results, sources)  # duplicates get their results here
    fanouts: list[tuple[int, str, str, int]] = []
    if topics is not None:  # audience events: a fan-out job each, its records written later (audiences.runner)
        accepted, fanouts = record_fanouts(accepted, topics, results)
    if not accepted:
        return refused
    now = timezone.now()
    cancels = BatchCancels(accepted, tenants)  # supersede keys set; the batch's cancels noted (intake.cancels)
    cancels.fanouts = fanouts
    failures = Failures()  # events whose own step raised: set aside, the others go on
    contacts = resolve_contacts(accepted, failures)
    planner = planner_for(accepted, tenants, now, failures=failures)  # a tenant whose limits cannot be read fails alone
    planner.plan_all(accepted, contacts, failures)
    failures.reject_repeats(accepted, valid, results)  # a batch-mate named duplicate of a failed event
    accepted = failures.keep(accepted)
    records = planner.records
    inbox = render_inbox(records, tenants, now, planner.now_text)  # in-app is delivered here
    write_records(records)
    cancels.apply(accepted, records)  # after the records: a cancel takes those of the events before it
    purge_if_final(accepted, records)
    write_inbox(inbox)
    processed_results(accepted, records, results)
    cancels.report(results)
    count_records(records)
    return refused + failures.rejections()
