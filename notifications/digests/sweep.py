"""A window whose digest record is gone: its digest record (the first digested event's record) was cancelled by
its event's cancel key (scheduling/cancel.py) before the close, so nothing would ever close the window and its
other records would wait forever. An idle worker looks, at most once a minute, for windows past their close by
GRACE, not digested, and without a live digest record, oldest close first (BATCH at a time):

- a live digest record is a member waiting with a due time (`scheduled`, only late), or one a worker has
  claimed (`sending`, lease running or run out, or `retrying`): its claim closes the window, so the window is
  left alone (a second digest record would send a second message);
- otherwise the oldest waiting record becomes the digest record, due now, or when the recipient's quiet hours
  for the channel end (rules.quiet_release, as at intake);
- a window with nothing left waiting is marked digested with a count of 0 (a digest record claimed right then
  finds it digested and sends its own event's message, as a window of one event does); the claimed check (no
  index of its own) is made only for windows with records waiting.

The first filter (no member waiting with a due time) is part of the query, so windows whose digest record is
alive but late (a worker behind its backlog, a digest held by quiet hours) never fill the batch. Each window is
then handled under its row lock (SKIP LOCKED: a window being closed or joined right now is left for the next
sweep), where the claimed members are checked too, so two sweeping workers never promote two records."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from notifications.delivery.models import NotificationRecord
from notifications.digests.models import DigestWindow, WindowState
from notifications.digests.rules import quiet_release
from notifications.enums import Status, WaitReason
from notifications.tenants.models import Contact, Tenant

logger = logging.getLogger(__name__)

GRACE = timedelta(minutes=5)  # a digest record this late past its window's close is taken for gone
SWEEP_SECONDS = 60.0
BATCH = 200
_SCHEDULED, _DIGESTING = Status.SCHEDULED.value, WaitReason.DIGESTING.value
_DIGESTED = WindowState.DIGESTED.value
#: A member in one of these is a digest record a worker holds (or held, and its lease brings it back).
CLAIMED = (Status.SENDING.value, Status.RETRYING.value)


class OrphanSweep:
    """One worker process's sweep, at most once per SWEEP_SECONDS."""

    def __init__(self) -> None:
        self.last = -SWEEP_SECONDS

    def sweep(self) -> int:
        if time.monotonic() - self.last < SWEEP_SECONDS:
            return 0
        self.last = time.monotonic()
        return promote_orphans(timezone.now())


def promote_orphans(now: datetime) -> int:
    """Windows past their close by GRACE whose digest record is gone get a new one; returns how many."""
    stale = _stale(now - GRACE)
    promoted = 0
    settings: dict[str, Any] = {}
    for window_id, tenant_id in stale:
        with transaction.atomic():
            window = DigestWindow.objects.select_for_update(skip_locked=True).filter(
                pk=window_id, tenant_id=tenant_id).exclude(state=WindowState.DIGESTED).first()
            if window is None:
                continue
            waiting = list(NotificationRecord.objects.filter(
                tenant_id=tenant_id, digest_window=window_id, status=_SCHEDULED, reason=_DIGESTING,
            ).order_by("pk").values_list("pk", "next_attempt_at"))
            if any(due is not None for _, due in waiting):
                continue  # its digest record is alive, only late: the worker's claim closes it
            if not waiting:  # (a digest record claimed right then finds it digested and goes as itself: right)
                DigestWindow.objects.filter(pk=window_id).update(state=WindowState.DIGESTED, count=0, closed_at=now)
                continue
            if NotificationRecord.objects.filter(tenant_id=tenant_id, digest_window=window_id,
                                                 status__in=CLAIMED).exists():
                continue  # claimed by a worker (slow, or dead: its lease brings the record back)
            if tenant_id not in settings:
                settings[tenant_id] = Tenant.objects.filter(pk=tenant_id).values_list("settings", flat=True).first()
            due = _due(window, settings[tenant_id], now)
            NotificationRecord.objects.filter(pk=waiting[0][0]).update(next_attempt_at=due, updated_at=now)
            promoted += 1
            logger.warning("digest window %s of tenant %s had no digest record left: record %s takes its place",
                           window_id, tenant_id, waiting[0][0])
    return promoted


def _stale(closed_before: datetime) -> list[tuple[int, str]]:
    """[(window id, tenant id)] of up to BATCH windows not digested, closed before `closed_before`, with no member
    waiting with a due time, oldest close first. The windows are read through digest_window_undigested_idx (its
    condition written as there) in closes_at order; each one's members through record_digest_waiting_idx, one
    look-up a window: on PostgreSQL `OFFSET 0` keeps the NOT EXISTS a per-window look-up (without it the planner
    made it an anti-join over every due digest record: 600,000 row comparisons to find 200 windows with 3,000
    records due, 44 ms against 0.6 ms; EXPLAIN ANALYZE, PostgreSQL 15, 100,000 windows, 300,000 records)."""
    windows = connection.ops.quote_name(DigestWindow._meta.db_table)
    records = connection.ops.quote_name(NotificationRecord._meta.db_table)
    per_window = " OFFSET 0" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT w.id, w.tenant_id FROM {windows} w WHERE NOT (w.state = '{_DIGESTED}') "  # noqa: S608 - quoted model tables, constant values
            f"AND w.closes_at <= %s AND NOT EXISTS (SELECT 1 FROM {records} r WHERE r.digest_window = w.id "
            f"AND r.tenant_id = w.tenant_id AND r.status = '{_SCHEDULED}' AND r.reason = '{_DIGESTING}' "
            f"AND r.next_attempt_at IS NOT NULL{per_window}) ORDER BY w.closes_at, w.id LIMIT %s",
            [connection.ops.adapt_datetimefield_value(closed_before), BATCH])
        return [(int(pk), str(tenant_id)) for pk, tenant_id in cursor.fetchall()]


def _due(window: DigestWindow, settings: Any, now: datetime) -> datetime:
    """Now, or the end of the recipient's quiet hours for the window's channel (their Contact's window and zone,
    else the tenant's)."""
    contact = Contact.objects.filter(tenant_id=window.tenant_id, user_id=window.user_id).values(
        "quiet_hours", "timezone").first()
    return quiet_release(settings, dict(contact or {}), window.channel, now) or now
