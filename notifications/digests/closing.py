"""The worker's side of digests: a claimed digest record (one with a digest window) closes its window and
collects the window's events before it is rendered.

Closing a window, in one transaction: its row is locked (FOR UPDATE), marked `digested` with the digest record,
the count and the first events' ids, and its waiting records are marked `skipped`, reason
`digested_into:<digest record id>`. An intake batch that joined the window holds the row's lock until it commits,
so the lock waits for it and its records are seen; a batch that comes after the lock finds the window no longer
open and opens the next one. Windows are first locked together with SKIP LOCKED (no waiting while holding
others: no deadlock with intake, which locks windows in key order); those an intake batch holds right then are
closed one by one, each in its own transaction, waiting for that batch.

A digest record claimed again (a retry, or a worker that died after closing) finds its window digested and
renders from the stored snapshot: the same events and count."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import CharField, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from notifications.db import fast_bulk_update, rows_by_ids  # also registers the `any` lookup
from notifications.delivery.housekeeping import has_secrets
from notifications.delivery.models import NotificationRecord
from notifications.delivery.secrets import purge_final_secrets
from notifications.digests.models import DigestWindow, WindowState
from notifications.digests.rules import MAX_EVENTS_SHOWN, digest_template_name
from notifications.enums import SkipReason, Status, WaitReason
from notifications.events.models import Event
from notifications.rendering.models import NotificationTemplate

if TYPE_CHECKING:
    from notifications.delivery.batch import Record

logger = logging.getLogger(__name__)

_DIGESTED = WindowState.DIGESTED.value
_SCHEDULED, _SKIPPED = Status.SCHEDULED.value, Status.SKIPPED.value
_DIGESTING = WaitReason.DIGESTING.value
DIGESTED_INTO = f"{SkipReason.DIGESTED_INTO.value}:"


@dataclass
class Digest:
    """What a digest record's message shows: the window's events (the first MAX_EVENTS_SHOWN, oldest first:
    (event id, occurred_at, stored payload)) and how many there were."""

    window_id: int
    count: int
    events: list[tuple[str, datetime, dict[str, Any]]] = field(default_factory=list)
    event_type: str = ""
    channel: str = ""
    #: the tenant's digest templates by locale, if it has any (render_digest picks the recipient's)
    templates: dict[str, NotificationTemplate] = field(default_factory=dict)


def close_digests(records: Sequence[Record]) -> dict[int, Digest]:
    """{digest record id: Digest} for the claimed records that are digest records, their windows closed first.
    A window that held only its digest record's own event is left out (its own message goes)."""
    carriers = {record.digest_window: record for record in records if record.digest_window}
    if not carriers:
        return {}
    now = timezone.now()
    windows: dict[int, DigestWindow] = {}
    with transaction.atomic():
        locked = list(DigestWindow.objects.select_for_update(skip_locked=True).filter(
            pk__any=list(carriers), tenant_id__any={r.tenant_id for r in carriers.values()}).order_by("pk"))
        windows.update((window.pk, window) for window in _close(locked, carriers, now))
    for window_id in sorted(set(carriers) - set(windows)):  # held by an intake batch right now: wait for it
        with transaction.atomic():
            row = list(DigestWindow.objects.select_for_update().filter(
                pk=window_id, tenant_id=carriers[window_id].tenant_id))
            windows.update((window.pk, window) for window in _close(row, carriers, now))
    missing = set(carriers) - set(windows)
    if missing:  # a window deleted with its tenant, or never written: the record goes as itself
        logger.warning("digest windows not found: %s", sorted(missing)[:10])
    digests = {carriers[pk].pk: Digest(pk, window.count, event_type=window.event_type, channel=window.channel)
               for pk, window in windows.items() if window.count > 1 and window.digest_record_id == carriers[pk].pk}
    if len(digests) < sum(1 for window in windows.values() if window.count > 1):  # never: two digest records
        logger.error("digest windows digested into another record: %s", sorted(
            pk for pk, window in windows.items() if window.digest_record_id != carriers[pk].pk)[:10])
    _load_events(digests, windows)
    _load_templates(digests, windows)
    return digests


def _close(windows: list[DigestWindow], carriers: dict[int, Record], now: datetime) -> list[DigestWindow]:
    """Digests the locked windows not digested yet (their waiting records marked); returns them all."""
    todo = [window for window in windows if window.state != _DIGESTED]
    if not todo:
        return windows
    ids = [window.pk for window in todo]
    waiting: dict[int, list[str]] = {pk: [] for pk in ids}
    secret_types = {window.event_type for window in todo if has_secrets(window.event_type)}
    members = NotificationRecord.objects.filter(  # the windows' waiting records, their digest records aside
        tenant_id__any={window.tenant_id for window in todo}, digest_window__any=ids, status=_SCHEDULED,
        reason=_DIGESTING).exclude(pk__any=[carriers[pk].pk for pk in ids])
    # Locked here, in id order (as a cancel locks the records of its key: scheduling/cancel.py), before the
    # UPDATE below marks them: two statements taking overlapping rows in different orders could deadlock.
    for window_id, event_id in members.select_for_update().order_by("pk").values_list("digest_window", "event_id"):
        waiting.setdefault(window_id or 0, []).append(str(event_id))
    for window in todo:
        carrier = carriers[window.pk]
        if carrier.tenant_id != window.tenant_id:  # never: the record carries its own window's id
            raise ValueError(f"record {carrier.pk} names digest window {window.pk} of another tenant")
        events = [str(carrier.event_id), *waiting[window.pk]]
        window.state, window.digest_record_id, window.closed_at = _DIGESTED, carrier.pk, window.closed_at or now
        window.count, window.event_ids = len(events), events[:MAX_EVENTS_SHOWN]
    fast_bulk_update(todo, ["state", "digest_record_id", "closed_at", "count", "event_ids"])
    digest_id = Subquery(DigestWindow.objects.filter(pk=OuterRef("digest_window")).values("digest_record_id")[:1])
    members.update(
        status=_SKIPPED, reason=Concat(Value(DIGESTED_INTO), Cast(digest_id, CharField())), next_attempt_at=None,
        updated_at=now)
    if secret_types:  # the digested events' secrets go now (a digest never shows them: render.py)
        purge_final_secrets({event for window in todo if window.event_type in secret_types
                             for event in waiting[window.pk]})
    return windows


def _load_events(digests: dict[int, Digest], windows: dict[int, DigestWindow]) -> None:
    """The digests' events, in one query."""
    if not digests:
        return
    wanted = {event_id for digest in digests.values() for event_id in windows[digest.window_id].event_ids}
    rows = {str(row[0]): row for row in rows_by_ids(Event, ["id", "event_id", "occurred_at", "payload"], wanted)}
    for digest in digests.values():
        digest.events = [(rows[pk][1], rows[pk][2], rows[pk][3]) for pk in windows[digest.window_id].event_ids
                         if pk in rows]


def _load_templates(digests: dict[int, Digest], windows: dict[int, DigestWindow]) -> None:
    """The tenants' own digest templates (`<event type>_<channel>_digest`), in one query."""
    if not digests:
        return
    names = {(windows[d.window_id].tenant_id, digest_template_name(d.event_type, d.channel)): d
             for d in digests.values()}
    found: dict[tuple[str, str], dict[str, NotificationTemplate]] = {}
    for row in NotificationTemplate.objects.filter(
        tenant_id__any={t for t, _ in names}, name__any={n for _, n in names}, is_active=True,
    ).only("id", "tenant_id", "name", "content", "version", "locale"):
        found.setdefault((row.tenant_id, row.name), {})[row.locale] = row
    for digest in digests.values():
        digest.templates = found.get((windows[digest.window_id].tenant_id,
                                      digest_template_name(digest.event_type, digest.channel)), {})
