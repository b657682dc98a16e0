"""Where a fan-out's recipients come from, a chunk at a time, in user-id order after the job's cursor: its list,
its topic's subscribers (those subscribed before the event), or the tenant's contacts (those created before the
event). Each recipient comes with their directory contact (None: the directory does not know them) and the
channels their topic subscription narrows to. Nothing here holds more than one chunk."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from notifications.audiences.models import AudienceKind, FanOut, Subscription
from notifications.intake.contacts import CONTACT_COLUMNS, contact_from_row
from notifications.tenants.models import Contact


@dataclass(slots=True)
class Recipient:
    user_id: str
    contact: dict[str, Any] | None  # None: not in the tenant's directory
    only: frozenset[str] | None = None  # the channels their topic subscription narrows to; None: every one


def next_recipients(job: FanOut, listed: Sequence[str], limit: int) -> list[Recipient]:
    """The next `limit` recipients after job.cursor. `listed`: the job's recipient list (RECIPIENTS jobs), read
    once by the caller."""
    if job.audience == AudienceKind.ALL:
        rows = (Contact.objects.filter(tenant_id=job.tenant_id, user_id__gt=job.cursor,
                                       created_at__lte=job.created_at)
                .order_by("user_id").values_list("user_id", *CONTACT_COLUMNS)[:limit])
        return [Recipient(user_id, contact_from_row(quiet, values)) for user_id, quiet, *values in rows]
    if job.audience == AudienceKind.TOPIC:
        if job.topic_id is None:  # the topic was deleted, and its subscriptions with it
            return []
        subscribed = list(Subscription.objects.filter(topic_id=job.topic_id, user_id__gt=job.cursor,
                                                      created_at__lte=job.created_at)
                          .order_by("user_id").values_list("user_id", "channels")[:limit])
        contacts = _directory(job.tenant_id, [user_id for user_id, _ in subscribed])
        return [Recipient(user_id, contacts.get(user_id), frozenset(channels) if channels else None)
                for user_id, channels in subscribed]
    start = bisect.bisect_right(listed, job.cursor) if job.cursor else 0
    chunk = listed[start:start + limit]
    contacts = _directory(job.tenant_id, chunk)
    return [Recipient(user_id, contacts.get(user_id)) for user_id in chunk]


def count_recipients(job: FanOut) -> int:
    """How many recipients the job has, counted once when it starts (a list's length is known at intake)."""
    if job.audience == AudienceKind.ALL:
        return Contact.objects.filter(tenant_id=job.tenant_id, created_at__lte=job.created_at).count()
    if job.audience == AudienceKind.TOPIC:
        if job.topic_id is None:
            return 0
        return Subscription.objects.filter(topic_id=job.topic_id, created_at__lte=job.created_at).count()
    return len(job.recipients)


def _directory(tenant_id: str, user_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    if not user_ids:
        return {}
    rows = Contact.objects.filter(tenant_id=tenant_id, user_id__any=set(user_ids)).values_list(
        "user_id", *CONTACT_COLUMNS)
    return {user_id: contact_from_row(quiet, values) for user_id, quiet, *values in rows}
