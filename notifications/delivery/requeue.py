"""Putting failed records back in the queue, safely against a worker that claims them meanwhile."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from notifications.channels.spec import intake_channels
from notifications.delivery.models import NotificationRecord
from notifications.enums import Status


def requeue(records: QuerySet[NotificationRecord]) -> int:
    """Failed or retrying records become pending now. One conditional UPDATE: a record a worker claimed in the
    meantime ('sending') is left alone, so it is never sent twice. Records of channels delivered at intake
    (in-app) have no worker to retry them: reprocess their event instead."""
    now = timezone.now()
    return (
        records.filter(status__in=[Status.FAILED, Status.RETRYING]).exclude(channel__in=intake_channels())
        .update(status=Status.PENDING, attempts=0, next_attempt_at=now, updated_at=now, claim_token=None)
    )
