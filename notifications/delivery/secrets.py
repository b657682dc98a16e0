"""Secrets in event payloads live only as long as a notification may still need them: once every record of an
event is final (sent, failed or skipped), its sealed fields are replaced by a purge marker."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.db import connection

from notifications.db import array_literal, fast_bulk_update
from notifications.db.plans import BY_KEY, plan_settings
from notifications.delivery.models import CLAIMABLE, NotificationRecord
from notifications.enums import Status
from notifications.errors import SecretPurged  # noqa: F401  (its old import place)
from notifications.events.models import Event
from notifications.security.crypto import ENCRYPTED_MARKER

PURGED_MARKER = "$purged"


def purge_final_secrets(event_ids: Iterable[Any]) -> int:
    """Purge the sealed fields of those events that no longer have an open record. Returns how many."""
    ids = set(event_ids)
    if not ids:
        return 0
    if connection.vendor == "postgresql":
        return _purge_in_database(ids)
    still_open = set(
        NotificationRecord.objects.filter(event_id__in=ids, status__in=CLAIMABLE).values_list("event_id", flat=True)
    )
    finished = [
        event for event in Event.objects.filter(id__in=ids - still_open).only("id", "payload")
        if any(_sealed(value) for value in event.payload.values())
    ]
    for event in finished:
        event.payload = purge_payload(event.payload)
    fast_bulk_update(finished, ["payload"])
    return len(finished)


def _purge_in_database(ids: set[Any]) -> int:
    """PostgreSQL: the same in one statement, without reading the payloads into Python. Only the keys handlers
    seal are looked at, and the purge markers are merged in with `||`: walking and rebuilding every payload
    with jsonb_each was half of what purging cost (bench/README.md)."""
    from notifications.events.registry import event_registry

    # A sealed value can only sit under a field some registered handler (fallbacks included) declares sensitive.
    names = sorted(event_registry.sensitive_field_names())
    if not names:
        return 0
    events = connection.ops.quote_name(Event._meta.db_table)
    records = connection.ops.quote_name(NotificationRecord._meta.db_table)
    # CASE: `-` on a scalar raises, and the planner may order AND's operands as it likes.
    sealed = ("CASE WHEN jsonb_typeof(e.payload -> k) = 'object' THEN (e.payload -> k) ? %(marker)s "
              "AND (e.payload -> k) - %(marker)s = '{}'::jsonb ELSE false END")
    with plan_settings(**BY_KEY), connection.cursor() as cursor:  # the events and their records by key
        # Lock the events first, in a fixed order: two workers finishing the last two records of one event would
        # otherwise each see the other's record still open (neither commit visible) and neither would purge.
        # After the lock, the UPDATE's fresh snapshot sees the other worker's committed outcome.
        cursor.execute(f"SELECT 1 FROM {events} WHERE id = ANY(%s::uuid[]) ORDER BY id FOR UPDATE",  # noqa: S608 - quoted model name
                       [array_literal(ids)])
        cursor.execute(
            f"UPDATE {events} AS e SET payload = e.payload || (SELECT jsonb_object_agg(k, %(purged)s::jsonb) "  # noqa: S608 - quoted model names and a constant condition
            f"FROM unnest(%(names)s::text[]) AS k WHERE {sealed}) "
            f"WHERE e.id = ANY(%(ids)s::uuid[]) AND jsonb_typeof(e.payload) = 'object' "
            f"AND EXISTS (SELECT 1 FROM unnest(%(names)s::text[]) AS k WHERE {sealed}) "
            # "not final" rather than "open": with stale statistics (a young table) the planner combined the
            # partial claim index (open records) with the event's index and read every open record per event.
            # `<> ALL` can only be a filter, so each event is one probe of (event_id, ...).
            f"AND NOT EXISTS (SELECT 1 FROM {records} AS r WHERE r.event_id = e.id AND r.status <> ALL(%(final)s))",
            {"marker": ENCRYPTED_MARKER, "purged": json.dumps({PURGED_MARKER: True}), "ids": array_literal(ids),
             "names": names, "final": sorted(str(status) for status in Status.final())},
        )
        return int(cursor.rowcount)


def purge_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its sealed fields replaced by the purge marker (the same object if it has none)."""
    if not any(_sealed(value) for value in payload.values()):
        return payload
    return {k: ({PURGED_MARKER: True} if _sealed(v) else v) for k, v in payload.items()}


def _sealed(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {ENCRYPTED_MARKER}


def is_purged(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {PURGED_MARKER}


EXPIRED_TITLE = "Expired message"
EXPIRED_BODY = "This message contained a one-time secret and has expired."


def expire_inbox_secrets(now: Any = None) -> int:
    """Blank in-app messages whose secret-bearing text has expired."""
    from django.utils import timezone

    from notifications.channels.models import InAppMessage

    return InAppMessage.objects.filter(expires_at__lte=now or timezone.now()).update(
        title=EXPIRED_TITLE, body=EXPIRED_BODY, action_url="", expires_at=None
    )
