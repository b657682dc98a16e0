"""A window whose digest record is gone: its digest record (the first digested event's record) was cancelled by
its event's cancel key (scheduling/cancel.py) before the close, so nothing would ever close the window and its
other records would wait forever. An idle worker looks, at most once a minute, for windows past their close by
GRACE and not digested: when none of their waiting records has a due time (no digest record alive, only late),
the oldest waiting record becomes the digest record, due now; a window with nothing left waiting is marked
digested with a count of 0. Each window is handled under its row lock (SKIP LOCKED: a window being closed or
joined right now is left for the next sweep), so two sweeping workers never promote two records."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from notifications.delivery.models import NotificationRecord
from notifications.digests.models import DigestWindow, WindowState
from notifications.enums import Status, WaitReason

logger = logging.getLogger(__name__)

GRACE = timedelta(minutes=5)  # a digest record this late past its window's close is taken for gone
SWEEP_SECONDS = 60.0
BATCH = 200
_SCHEDULED, _DIGESTING = Status.SCHEDULED.value, WaitReason.DIGESTING.value


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
    # The condition of digest_window_undigested_idx, as it is written there: the sweep reads only that index.
    stale = list(DigestWindow.objects.exclude(state=WindowState.DIGESTED).filter(
        closes_at__lte=now - GRACE).values_list("pk", "tenant_id")[:BATCH])
    promoted = 0
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
            if not waiting:
                DigestWindow.objects.filter(pk=window_id).update(state=WindowState.DIGESTED, count=0, closed_at=now)
                continue
            NotificationRecord.objects.filter(pk=waiting[0][0]).update(next_attempt_at=now, updated_at=now)
            promoted += 1
            logger.warning("digest window %s of tenant %s had no digest record left: record %s takes its place",
                           window_id, tenant_id, waiting[0][0])
    return promoted
