"""Where a fan-out's recipients come from, a chunk at a time, in user-id order after the job's cursor: its list,
its topic's subscribers (those subscribed before the event), or the tenant's contacts (those created before the
event). Each recipient comes with their directory contact (None: the directory does not know them) and the
channels their topic subscription narrows to. Nothing here holds more than one chunk."""

from __future__ import annotations

import bisect
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection

from notifications.audiences.models import AudienceKind, FanOut, Subscription
from notifications.intake.contacts import CONTACT_COLUMNS, CONTACT_FIELDS, contact_from_row
from notifications.tenants.models import Contact

_EVERY = "[]"  # a subscription's channels as text when it narrows nothing


def _table(model: Any) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# Cast as text: JSON decoded only where set (a subscription narrowing its channels, a user's own quiet hours).
_ALL = (f"SELECT c.user_id, CAST(c.quiet_hours AS text), {', '.join('c.' + f for f in CONTACT_FIELDS)} "  # noqa: S608 - quoted model tables, constant columns
        f"FROM {_table(Contact)} c WHERE c.tenant_id = %s AND c.user_id > %s AND c.created_at <= %s "
        "ORDER BY c.user_id LIMIT %s")
_SUBSCRIBERS = (f"SELECT s.user_id, CAST(s.channels AS text), c.id, CAST(c.quiet_hours AS text), "  # noqa: S608 - as above
                f"{', '.join('c.' + f for f in CONTACT_FIELDS)} FROM {_table(Subscription)} s "
                f"LEFT JOIN {_table(Contact)} c ON c.tenant_id = %s AND c.user_id = s.user_id "
                "WHERE s.topic_id = %s AND s.user_id > %s AND s.created_at <= %s ORDER BY s.user_id LIMIT %s")


@dataclass(slots=True)
class Recipient:
    user_id: str
    contact: dict[str, Any] | None  # None: not in the tenant's directory
    only: frozenset[str] | None = None  # the channels their topic subscription narrows to; None: every one


def next_recipients(job: FanOut, listed: Sequence[str], limit: int) -> list[Recipient]:
    """The next `limit` recipients after job.cursor. `listed`: the job's recipient list (RECIPIENTS jobs), read
    once by the caller.

    Fast path, "one query a chunk": a topic's subscribers and their contacts (or the tenant's contacts) are read
    by one statement walking the unique index in user-id order, its rows as plain tuples. The ORM's two queries
    (subscriptions, then their contacts), with a converter per row, were a third of a chunk's time (bench/README.md,
    issue 18)."""
    if job.audience == AudienceKind.RECIPIENTS:
        start = bisect.bisect_right(listed, job.cursor) if job.cursor else 0
        chunk = listed[start:start + limit]
        contacts = _directory(job.tenant_id, chunk)
        return [Recipient(user_id, contacts.get(user_id)) for user_id in chunk]
    if job.audience == AudienceKind.TOPIC and job.topic_id is None:
        return []  # the topic was deleted, and its subscriptions with it
    created = connection.ops.adapt_datetimefield_value(job.created_at)
    with connection.cursor() as cursor:
        if job.audience == AudienceKind.ALL:
            cursor.execute(_ALL, [job.tenant_id, job.cursor, created, limit])
            return [Recipient(user_id, contact_from_row(quiet, values)) for user_id, quiet, *values in cursor]
        cursor.execute(_SUBSCRIBERS, [job.tenant_id, job.topic_id, job.cursor, created, limit])
        return [Recipient(user_id, None if known is None else contact_from_row(quiet, values),
                          None if channels == _EVERY else frozenset(json.loads(channels)))
                for user_id, channels, known, quiet, *values in cursor]


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
