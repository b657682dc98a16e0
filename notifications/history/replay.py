"""Replay: last week's events again, against a draft template set (dry run), or through intake once more (live).

- **Dry run** (`dry_run`): each stored event is planned again by intake's planner, with today's contacts,
  preferences, settings and rules, and each record that would go is rendered, with the draft templates where
  they name one and the tenant's templates otherwise. Nothing is sent and nothing is written: the whole run is
  one transaction rolled back at the end (the planner may open digest windows or write contacts back). A draft
  rule set may stand in for the tenant's current rules. The
  answer: counts per channel and outcome (`sent`, `scheduled`, or the skip reason), how many outcomes differ
  from what actually happened, a sample of those differences, and a sample of rendered messages.
- **Live** (`live`): each event goes through intake again as a new event, `event_id` "replay:<key>:<original
  id>" and `metadata.replay_of` the original's id. The key (the caller's, or a hash of the request) makes a
  replay repeated by mistake a duplicate: the originals are never sent twice by one replay, and replayed copies
  are never replayed again. Drafts are refused in live mode (save the templates first).
- Not replayed live, and counted by why: an event of a type with secrets (`secret`: a 2FA code or reset link is
  never sent again, purged or not), one whose notifications have not all ended
  (`open`: the original would go out twice), an audience event (`audience`: its fan-out chose the recipients).
  An erased person's events are never replayed. A sealed secret is masked (`[REDACTED]`) in what a dry run
  renders.
- At most MAX_EVENTS events per replay: a wider range is refused with the count, to be narrowed."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from notifications.audiences.models import FanOut
from notifications.delivery.models import CLAIMABLE, NotificationRecord
from notifications.enums import Status
from notifications.errors import SecretPurged
from notifications.events.envelope import ValidatedEvent
from notifications.events.models import Event
from notifications.events.naming import template_name
from notifications.events.registry import event_registry
from notifications.history.erasure import PSEUDONYM_PREFIX
from notifications.history.export import batched, masked
from notifications.intake.contacts import resolve_contacts
from notifications.intake.isolation import Failures
from notifications.intake.planning import Accepted, planner_for
from notifications.rendering.context import build_context
from notifications.rendering.engine import render_sources
from notifications.rendering.service import Renderer
from notifications.rules.book import RuleBook
from notifications.rules.compiled import CompiledRules
from notifications.rules.validation import check_rules
from notifications.security import open_fields
from notifications.tenants.models import Tenant

MAX_EVENTS = 10_000
CHUNK = 500
DEFAULT_SAMPLE = 20
AUDIENCE, OPEN, SECRET = "audience", "open", "secret"
#: A replay's key, the caller's: what makes its events' ids ("replay:<key>:<original id>", within 128 characters).
KEY = re.compile(r"[A-Za-z0-9_.-]{0,64}")
#: A live replay's events carry this id prefix; they are not replayed again.
REPLAY_PREFIX = "replay:"


class ReplayError(ValueError):
    """A replay that cannot run as asked (too many events, drafts in live mode, a draft that is not valid)."""


@dataclass(frozen=True)
class ReplayQuery:
    """Which events: one tenant's, by id or received in [since, until), optionally of some types."""

    tenant_id: str
    since: datetime | None = None
    until: datetime | None = None
    event_ids: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()

    def events(self) -> Any:
        query = (Event.objects.filter(tenant_id=self.tenant_id).exclude(event_id__startswith=REPLAY_PREFIX)
                 .exclude(user_id__startswith=PSEUDONYM_PREFIX))  # an erased person's events are not replayed
        if self.event_ids:
            query = query.filter(pk__in=self.event_ids)
        if self.since is not None:
            query = query.filter(received_at__gte=self.since)
        if self.until is not None:
            query = query.filter(received_at__lt=self.until)
        if self.event_types:
            query = query.filter(event_type__in=self.event_types)
        return query.order_by("received_at", "id")

    def checked(self) -> int:
        if not self.event_ids and self.since is None:
            raise ReplayError("name the events: event_ids, or a time range (since, and until if not up to now)")
        count = int(self.events().count())
        if count > MAX_EVENTS:
            raise ReplayError(f"{count:,} events match; a replay takes at most {MAX_EVENTS:,}: narrow the range")
        return count


@dataclass
class ReplaySummary:
    mode: str
    events: int = 0
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (channel, sent|scheduled|<reason>)
    changed: int = 0
    not_replayed: Counter[str] = field(default_factory=Counter)
    differences: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    replayed: list[dict[str, Any]] = field(default_factory=list)  # live: each event's new result
    key: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode, "key": self.key, "events": self.events,
            "outcomes": [{"channel": channel, "outcome": outcome, "count": count}
                         for (channel, outcome), count in sorted(self.outcomes.items())],
            "changed": self.changed, "not_replayed": dict(self.not_replayed), "differences": self.differences,
            "samples": self.samples, "replayed": self.replayed,
        }


def replay(query: ReplayQuery, *, drafts: Mapping[str, Mapping[str, str]] | None = None, rules: Any = None,
           live: bool = False, key: str = "", sample: int = DEFAULT_SAMPLE) -> ReplaySummary:
    """Run a replay (see the module). `drafts`: template name -> content, as the templates API takes them;
    `rules`: a draft rule set, as PUT /api/v1/rules takes it (checked as on save: RulesInvalid names its bad
    parts); None: the tenant's current rules."""
    if live and (drafts or rules is not None):
        raise ReplayError("drafts are for dry runs: save the templates or rules, then replay live")
    query.checked()
    if live:
        return _live(query, key or _key(query))
    return _dry_run(query, dict(drafts or {}), rules, sample)


def _key(query: ReplayQuery) -> str:
    """The same request gives the same key, however its times were written (01:00+01:00 is 00:00Z)."""
    moments = [None if moment is None else moment.astimezone(UTC).isoformat() for moment in (query.since, query.until)]
    text = json.dumps([query.tenant_id, *moments, sorted(query.event_ids), sorted(query.event_types)])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _audience_ids(events: list[Event]) -> set[Any]:
    return set(FanOut.objects.filter(event_id__in=[event.pk for event in events]).values_list("event_id", flat=True))


def _stored(query: ReplayQuery) -> Iterator[list[Event]]:
    """The events in chunks, by their ids (at most MAX_EVENTS of them): no cursor outlives a chunk's transaction."""
    ids = list(query.events().values_list("pk", flat=True))
    for chunk in batched(ids, CHUNK):
        events = list(Event.objects.filter(pk__in=chunk).order_by("received_at", "id"))
        event_registry.prepare({(event.tenant_id, event.event_type) for event in events})  # tenant-defined types
        yield events


def _live(query: ReplayQuery, key: str) -> ReplaySummary:
    summary = ReplaySummary(mode="live", key=key)
    for events in _stored(query):
        audience = _audience_ids(events)
        still_open = set(NotificationRecord.objects.filter(event_id__in=[event.pk for event in events],
                                                           status__in=CLAIMABLE).values_list("event_id", flat=True))
        envelopes = []
        for event in events:
            summary.events += 1
            reason = _not_live(event, audience, still_open)
            if reason:
                summary.not_replayed[reason] += 1
                continue
            try:
                payload = open_fields(event.payload)
            except SecretPurged:  # only types with secrets have them purged, and those are not replayed (above)
                summary.not_replayed[SECRET] += 1
                continue
            envelopes.append({
                "event_type": event.event_type, "tenant_id": event.tenant_id,
                "timestamp": event.occurred_at.isoformat(), "payload": payload, "user_id": event.user_id or None,
                "event_id": f"{REPLAY_PREFIX}{key}:{event.pk}"[:128],
                "metadata": {**(event.metadata or {}), "replay_of": str(event.pk), "replay": key},
            })
        if envelopes:
            for result in event_registry.process_events(envelopes, source="replay"):
                summary.replayed.append({"outcome": result.outcome.value, "event_id": result.event_id,
                                         "detail": result.detail})
    return summary


def _not_live(event: Event, audience: set[Any], still_open: set[Any]) -> str:
    """Why an event is not replayed live ("" when it is): an audience's, one whose notifications have not all
    ended (the original would go out twice), one carrying a secret (a code or reset link is never sent again)."""
    if event.pk in audience:
        return AUDIENCE
    if event.pk in still_open:
        return OPEN
    if event_registry.handler_for(event.event_type, event.tenant_id).sensitive_fields:
        return SECRET
    return ""


def _dry_run(query: ReplayQuery, drafts: dict[str, Mapping[str, str]], rules: Any, sample: int) -> ReplaySummary:
    """Each chunk plans in its own transaction, rolled back: what the planner's steps write (contacts from
    payloads) is undone, and no lock is held longer than an intake batch holds one."""
    summary = ReplaySummary(mode="dry_run")
    sensitive = event_registry.redacted_keys()
    tenants = {tenant.pk: tenant for tenant in Tenant.objects.filter(pk=query.tenant_id)}
    if not tenants:
        return summary
    book = _draft_rules(tenants[query.tenant_id], rules) if rules is not None else None
    renderer = Renderer([query.tenant_id])
    for events in _stored(query):
        audience = _audience_ids(events)
        items: list[Accepted] = []
        for event in events:
            summary.events += 1
            if event.pk in audience:
                summary.not_replayed[AUDIENCE] += 1
                continue
            items.append(_accepted(len(items), event, sensitive))
        if items:
            with transaction.atomic():
                _plan_and_render(items, tenants, renderer, drafts, book, summary, sample)
                transaction.set_rollback(True)  # a dry run writes nothing
    return summary


def _accepted(index: int, event: Event, sensitive: frozenset[str]) -> Accepted:
    handler = event_registry.handler_for(event.event_type, event.tenant_id)
    shown = masked(event.payload, sensitive | handler.sensitive_fields)  # sealed and purged secrets: the mask
    try:  # typed values (decimals, datetimes) for rules' conditions, as intake has them
        typed: dict[str, Any] | None = handler.load_payload(shown)
    except Exception:  # noqa: BLE001 - a masked secret its model refuses: the stored values then
        typed = None
    validated = ValidatedEvent(event_type=event.event_type, tenant_id=event.tenant_id, timestamp=event.occurred_at,
                               payload=shown, handler=handler, dedupe_key=event.dedupe_key, event_id=str(event.pk),
                               user_id=event.user_id, metadata=event.metadata or {}, typed=typed)
    return Accepted(index=index, event=validated, pk_text=str(event.pk), stored_payload=shown)


def _draft_rules(tenant: Tenant, rules: Any) -> RuleBook:
    checked, _warnings = check_rules(tenant, rules)
    return RuleBook.of(tenant.id, CompiledRules(tenant.id, 0, checked))


def _plan_and_render(items: list[Accepted], tenants: dict[str, Tenant], renderer: Renderer,
                     drafts: dict[str, Mapping[str, str]], book: RuleBook | None, summary: ReplaySummary,
                     sample: int) -> None:
    """Intake's planning steps for these events (intake/service.py `_accept`, without writing), then each record
    that would go rendered; outcomes compared with the records the originals got."""
    failures = Failures()
    contacts = resolve_contacts(items, failures)
    # Intake's planner without its one write: digest windows are not opened (a dry run only reports that a record
    # would wait for one), so no window's lock is taken; a draft rule set (book) instead of the tenant's current.
    planner = planner_for(items, tenants, timezone.now(), failures=failures, rules=book, windows=False)
    planner.plan_all(items, contacts, failures)
    actual: dict[tuple[str, str], tuple[str, str]] = {
        (str(event_id), channel): (status, reason) for event_id, channel, status, reason in
        NotificationRecord.objects.filter(event_id__in=[item.pk_text for item in items])
        .values_list("event_id", "channel", "status", "reason")}
    for planned in planner.records:
        event = planned.item.event
        outcome = planned.reason if planned.status == Status.SKIPPED else (
            Status.SCHEDULED.value if planned.status == Status.SCHEDULED else Status.SENT.value)
        summary.outcomes[(planned.channel, outcome)] += 1
        was = actual.get((planned.item.pk_text, planned.channel))
        was_outcome = None if was is None else (was[1] if was[0] in (Status.SKIPPED, Status.CANCELLED) else was[0])
        if was_outcome != outcome:
            summary.changed += 1
            if len(summary.differences) < sample:
                summary.differences.append({"event": planned.item.pk_text, "event_type": event.event_type,
                                            "channel": planned.channel, "was": was_outcome, "now": outcome})
        if planned.status != Status.SKIPPED and len(summary.samples) < sample:
            summary.samples.append(_rendered(planned.item, planned.channel, tenants, renderer, drafts))
    planned_now = {(planned.item.pk_text, planned.channel) for planned in planner.records}
    by_id = {item.pk_text: item.event.event_type for item in items}
    for (event_id, channel), (status, reason) in actual.items():
        if (event_id, channel) in planned_now or event_id not in by_id:
            continue
        summary.changed += 1  # a channel it went on then, with none now (a rule removed it, say)
        if len(summary.differences) < sample:
            then = reason if status in (Status.SKIPPED, Status.CANCELLED) else status
            summary.differences.append({"event": event_id, "event_type": by_id[event_id], "channel": channel,
                                        "was": then, "now": None})
    for rejection in failures.by_index.values():  # an event whose planning raised (its detail is logged)
        summary.not_replayed[f"failed: {rejection.reason}"] += 1


def _rendered(item: Accepted, channel: str, tenants: dict[str, Tenant], renderer: Renderer,
              drafts: dict[str, Mapping[str, str]]) -> dict[str, Any]:
    from notifications.enums import Channel

    event = item.event
    tenant = tenants[event.tenant_id]
    handler = event.handler
    name = template_name(event.event_type, channel)
    try:
        typed = event.typed if event.typed is not None else handler.load_payload(event.payload)
        context = build_context(handler, event_type=event.event_type, payload=typed, tenant=tenant,
                                contact=item.contact, event_id=item.pk_text, user_id=event.user_id,
                                occurred_at=event.timestamp, common=renderer.tenant_values(tenant))
        if name in drafts:
            fields, source = render_sources(None, drafts[name], context, label=f"draft {name}",
                                            tenant_id=event.tenant_id), f"draft:{name}"
        else:
            content = renderer.render(handler, event.event_type, Channel(channel), context, event.tenant_id)
            fields, source = content.fields, content.source
    except Exception as err:  # noqa: BLE001 - a draft that fails to render is what a dry run is for
        return {"event": item.pk_text, "channel": channel, "error": f"{type(err).__name__}: {err}"[:500]}
    return {"event": item.pk_text, "event_type": event.event_type, "channel": channel, "user_id": event.user_id,
            "template": source, "fields": fields}
