"""Intake's side of digests: the batch's digested records join their windows, in three statements per batch
whatever its size (only batches with digested records run them):

0. (PostgreSQL) the batch's keys are locked in one global order (transaction-scoped advisory locks), so two
   batches sharing keys cannot deadlock on window rows;
1. windows of the batch's keys that are open but past their close are closed (an event after the close opens
   the next window; a window whose only event went at once has no digest record to close it);
2. one INSERT ... ON CONFLICT (tenant, channel, key) WHERE state = 'open' DO UPDATE SET events = events + n
   RETURNING the window: a new key opens a window, a known one is joined, atomically. The row stays locked until
   the batch commits, so a worker closing that window waits for the batch and sees its records.

From the window's event count before the batch (returned count - the batch's n) each record learns its place:
with first_at_once the window's first event goes as any record would (scheduling.timing: pending, or scheduled
for its deliver_at/delay or quiet hours); the first digested event's record becomes
the window's digest record, `scheduled` until the close; the others wait without a due time (the digest
record's close takes them). Rows are sent in key order, so two batches lock shared windows in the same order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.utils.dateparse import parse_datetime

from notifications.db import text_array_literal
from notifications.digests.models import DigestWindow, WindowState
from notifications.digests.rules import UTC_ZONE, DigestRule, quiet_release, recipient_zone
from notifications.enums import Status
from notifications.scheduling.timing import Timing
from notifications.tenants.models import Tenant

if TYPE_CHECKING:
    from notifications.intake.planning import Planned

_OPEN = WindowState.OPEN.value
_CLOSED = WindowState.CLOSED.value
_PENDING, _SCHEDULED = Status.PENDING.value, Status.SCHEDULED.value


def open_windows(records: Sequence[Planned], tenants: Mapping[str, Tenant], now: datetime, now_text: str) -> None:
    """Joins the batch's digested records (those with `digest` set) to their windows; see the module's text."""
    groups: dict[tuple[str, str, str], list[Planned]] = {}
    rules: dict[tuple[str, str, str], DigestRule] = {}
    for record in records:
        rule = record.digest
        if rule is None:
            continue
        record.next_attempt_at = None  # waits for the close of its window; its digest record gets a time below
        event = record.item.event
        key = (event.tenant_id, record.channel,
               rule.key(event.tenant_id, record.channel, event.event_type, event.user_id, record.recipient,
                        event.payload))
        groups.setdefault(key, []).append(record)
        rules.setdefault(key, rule)
    if not groups:
        return
    zones = _zones(groups, rules, tenants)
    keys = sorted(groups)
    _lock_keys(keys)
    _close_past(keys, now)
    rows = []
    for key in keys:
        first = groups[key][0]
        event = first.item.event
        rule = rules[key]
        closes = rule.closes_at(now, zones.get(key, UTC_ZONE))
        rows.append((key, event.event_type, event.user_id, rule.kind, closes, rule.first_at_once, len(groups[key])))
    timing: Timing | None = None
    for key, window_id, total, first_at_once, closes in _upsert(rows, now):
        members = groups[key]
        before = total - len(members)
        for place, record in enumerate(members, start=before):
            if first_at_once and place == 0:  # the window's first event: it goes as any record would
                timing = timing or Timing(tenants, now)
                _as_usual(record, timing, now_text)
                continue
            record.digest_window = window_id
            if place == (1 if first_at_once else 0):  # the window's digest record: due at its close
                held = quiet_release(tenants[key[0]].settings, record.item.contact, record.channel, closes)
                record.next_attempt_at = (held or closes).isoformat()


def _as_usual(record: Planned, timing: Timing, now_text: str) -> None:
    """A window's first event with first_at_once leaves the window: it goes when scheduling.timing says (at
    once: pending; its deliver_at/delay or the tenant's default delay, or held by quiet hours: scheduled)."""
    due = timing.due(record.item.event, record.channel, record.item.contact)
    record.digest = None
    if due is None:
        record.status, record.reason, record.next_attempt_at = _PENDING, "", now_text
    else:
        record.status, record.reason, record.next_attempt_at = _SCHEDULED, due[1], due[0].isoformat()


def _zones(groups: dict[tuple[str, str, str], list[Planned]], rules: dict[tuple[str, str, str], DigestRule],
           tenants: Mapping[str, Tenant]) -> dict[tuple[str, str, str], Any]:
    """The recipient's zone of each scheduled window (fixed windows need none): the contact's as intake read it
    (intake.contacts), else the tenant's default, else UTC."""
    return {key: recipient_zone(groups[key][0].item.contact.get("timezone"), tenants[key[0]].settings)
            for key in groups if rules[key].needs_zone}


def _lock_keys(keys: list[tuple[str, str, str]]) -> None:
    """PostgreSQL: the batch's keys locked for the transaction (advisory locks), in one global order, before any
    window row: two batches sharing keys then never lock window rows in opposite orders (the close of past
    windows and the upsert are two statements). Elsewhere the database's write lock serializes batches."""
    if connection.vendor != "postgresql":
        return
    locks = sorted({int(key[:15], 16) for _, _, key in keys})  # 60 bits of the key's hash: a bigint
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [locks])


def _close_past(keys: list[tuple[str, str, str]], now: datetime) -> None:
    """Open windows of these keys past their close are closed (one statement; the partial unique index)."""
    DigestWindow.objects.filter(
        tenant_id__any={t for t, _, _ in keys}, channel__any={c for _, c, _ in keys}, key__any={k for _, _, k in keys},
        state=_OPEN, closes_at__lte=now,
    ).update(state=_CLOSED, closed_at=now)


_COLUMNS = ("tenant_id", "channel", "key", "event_type", "user_id", "kind", "state", "opened_at", "closes_at",
            "first_at_once", "events", "count", "event_ids")
_RETURNING = "RETURNING tenant_id, channel, key, id, events, first_at_once, closes_at"
SQLITE_ROWS = 500  # rows per statement elsewhere: 13 parameters a row, under SQLite's 32,766


def _conflict(table: str) -> str:
    return (f"ON CONFLICT (tenant_id, channel, key) WHERE state = '{_OPEN}' "
            f"DO UPDATE SET events = {table}.events + excluded.events {_RETURNING}")


def _upsert(rows: list[tuple[Any, ...]], now: datetime) -> list[tuple[tuple[str, str, str], int, int, bool,
                                                                        datetime]]:
    """[(key, window id, events after this batch, first_at_once, closes_at)] of INSERT ... ON CONFLICT: on
    PostgreSQL one statement whose rows come from arrays, one parameter a column (a VALUES list of 13
    parameters a row cost more to convert on the client than the statement took); elsewhere VALUES lists."""
    table = connection.ops.quote_name(DigestWindow._meta.db_table)
    returned: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = list(zip(*[(*key, event_type, user_id, kind, closes, first, count)
                                 for key, event_type, user_id, kind, closes, first, count in rows], strict=True))
            texts = [text_array_literal(values) for values in columns[:6]]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(_COLUMNS)}) "  # noqa: S608 - quoted model table, constant columns
                f"SELECT r.tenant_id, r.channel, r.key, r.event_type, r.user_id, r.kind, '{_OPEN}', %s, r.closes_at, "
                "r.first_at_once, r.events, 0, '[]'::jsonb FROM unnest(%s::text[], %s::text[], %s::text[], "
                "%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::boolean[], %s::integer[]) WITH "
                "ORDINALITY AS r(tenant_id, channel, key, event_type, user_id, kind, closes_at, first_at_once, events, "
                f"ord) ORDER BY r.ord {_conflict(table)}",
                [now, *texts, list(columns[6]), list(columns[7]), list(columns[8])])
            returned = cursor.fetchall()
        else:
            adapt = connection.ops.adapt_datetimefield_value
            for start in range(0, len(rows), SQLITE_ROWS):
                part = rows[start:start + SQLITE_ROWS]
                params: list[Any] = []
                for (tenant_id, channel, key), event_type, user_id, kind, closes, first_at_once, count in part:
                    params += [tenant_id, channel, key, event_type, user_id, kind, _OPEN, adapt(now), adapt(closes),
                               first_at_once, count, 0, "[]"]
                values = ", ".join(["(" + ", ".join(["%s"] * len(_COLUMNS)) + ")"] * len(part))
                cursor.execute(f"INSERT INTO {table} ({', '.join(_COLUMNS)}) VALUES {values} "  # noqa: S608 - as above
                               f"{_conflict(table)}", params)
                returned += cursor.fetchall()
    return [((tenant_id, channel, key), window_id, events, bool(first), _aware(closes))
            for tenant_id, channel, key, window_id, events, first, closes in returned]


def _aware(value: Any) -> datetime:
    """A timestamp as the cursor returns it (PostgreSQL: aware; SQLite: ISO text in UTC) as an aware datetime."""
    moment = value if isinstance(value, datetime) else parse_datetime(str(value))
    if moment is None:
        raise ValueError("a digest window's closes_at could not be read")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
