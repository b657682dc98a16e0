"""Putting failed records back in the queue, safely against a worker that claims them meanwhile."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from notifications.delivery.models import NotificationRecord
from notifications.enums import Status


def requeue(records: QuerySet[NotificationRecord]) -> int:
    """Failed or retrying records become pending now. One conditional UPDATE: a record a worker claimed in the
    meantime ('sending') is left alone, so it is never sent twice. In-app records too: a worker writes the inbox
    row of a due in-app record (delivery/inbox.py), as it does for scheduled ones."""
    now = timezone.now()
    return (
        records.filter(status__in=[Status.FAILED, Status.RETRYING])
        .update(status=Status.PENDING, attempts=0, next_attempt_at=now, updated_at=now, claim_token=None)
    )
