"""Erasure: one person's data removed or irreversibly anonymised in every table, on request (GDPR Art. 17).

What happens to each table, in one place (`erase_user`, one transaction):

- contact, devices, preferences, topic subscriptions, inbox messages: deleted;
- their events (`user_id` theirs): user id -> the pseudonym; payload -> `{"$erased": true}`, metadata -> `{}`; the
  producer's event id and the dedupe key replaced (either may embed them);
- audience events and fan-outs listing them: their id taken out of the list (`recipients`, payload `user_ids`)
  and out of the fan-out's cursor (a running one's becomes the id before theirs in its audience's order: it
  resumes with the same next recipient);
- notification records (`user_id` theirs): those not sent yet cancelled (reason `erased`); user id -> the
  pseudonym; address, error text and cancel key
  blanked (a 2FA code's supersede key is made of their id; a push record's `device:N` stays: it names a
  deleted row);
- delivery attempts of those records: error text blanked (a bounce may quote the address);
- digest windows: user id -> the pseudonym; key re-hashed (it was a hash of their id);
- rejected events naming them (their id, e-mail or phone in the kept original): originals and detail blanked;
- Django's admin log (`LogEntry`) entries naming them (their id as a whole word, not another tenant's, or an
  e-mail or phone of theirs, in the object's name or the change message): both replaced by `[erased]`; who acted
  and when stays.

Nothing loads all of a person's rows at once: their events, records, digest windows and admin log entries are
found and changed ID_CHUNK at a time (a person with a million records is 200 chunks; `_chunks` says how),
fan-outs AUDIENCE_CHUNK at a time (each may list 100,000 ids).

What stays: event types, times, channels, statuses and counts, so the tenant's statistics still add up. The
pseudonym is random (`erased-` and 16 hex digits): nothing links it back to the person. An `Erasure` row records
the erasure, its pseudonym, who asked and the counts, never the person's id or data.

Not found: another person's event that names this one in free text (a comment's body, `mentioned_by`): only
their own fields and ids are known to be theirs. Configuration is not searched (tenants' templates, rules and
event types' examples)."""

from __future__ import annotations

import bisect
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.contrib.admin.models import LogEntry
from django.db import connection, transaction
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast, Concat, Greatest

from notifications.audiences.models import OPEN_STATES, AudienceKind, FanOut, Subscription
from notifications.channels.models import Device, InAppMessage
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.digests.models import DigestWindow
from notifications.enums import Status
from notifications.events.models import Event, EventKey, RejectedEvent
from notifications.history.models import Erasure
from notifications.scheduling.cancel import CANCELLABLE, CancelReason
from notifications.tenants.models import Contact, Preference

ERASED = {"$erased": True}
#: What an erased person's rows carry instead of their user id, before 16 random hex digits.
PSEUDONYM_PREFIX = "erased-"
#: What an erased rejected event's originals become.
ERASED_TEXT = "[erased]"
#: Rows read and changed per chunk, their ids listed in its statements (SQLite takes at most 32,766 parameters).
ID_CHUNK = 5000
#: Fan-outs read per chunk: each may list up to 100,000 recipients (audiences.parse.MAX_RECIPIENTS).
AUDIENCE_CHUNK = 50


@dataclass
class ErasureReport:
    pseudonym: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        return any(self.counts.values())


def new_pseudonym() -> str:
    return PSEUDONYM_PREFIX + secrets.token_hex(8)


def erase_user(tenant_id: str, user_id: str, *, requested_by: str = "") -> ErasureReport:
    """Erase one person's data in one transaction (see the module's table); returns what was done."""
    report = ErasureReport(new_pseudonym())
    counts = report.counts
    with transaction.atomic():
        contact = Contact.objects.filter(tenant_id=tenant_id, user_id=user_id).first()
        addresses = _addresses(tenant_id, user_id, contact)
        counts["rejected_events"] = _erase_rejections(tenant_id, user_id, addresses)
        counts["admin_log_entries"] = _erase_admin_log(tenant_id, user_id, addresses)
        counts["events"] = _erase_events(tenant_id, user_id, report.pseudonym)
        counts["audiences"] = _leave_audiences(tenant_id, user_id)
        counts["records"], counts["attempts"] = _erase_records(tenant_id, user_id, report.pseudonym)
        counts["digest_windows"] = _erase_windows(tenant_id, user_id, report.pseudonym)
        counts["inbox_messages"] = InAppMessage.objects.filter(tenant_id=tenant_id, user_id=user_id).delete()[0]
        counts["devices"] = Device.objects.filter(tenant_id=tenant_id, user_id=user_id).delete()[0]
        counts["preferences"] = Preference.objects.filter(tenant_id=tenant_id, user_id=user_id).delete()[0]
        counts["subscriptions"] = Subscription.objects.filter(topic__tenant_id=tenant_id, user_id=user_id).delete()[0]
        counts["contacts"] = contact.delete()[0] if contact is not None else 0
        if report.found:
            Erasure.objects.create(tenant_id=tenant_id, pseudonym=report.pseudonym, requested_by=requested_by[:100],
                                   counts=counts)
    return report


def _addresses(tenant_id: str, user_id: str, contact: Contact | None) -> set[str]:
    """The person's e-mail addresses and phone numbers known here: the directory's and their records'."""
    found = {value for value in (contact.email, contact.phone) if value} if contact is not None else set()
    found |= set(NotificationRecord.objects.filter(tenant_id=tenant_id, user_id=user_id, channel__in=("email", "sms"))
                 .exclude(recipient="").values_list("recipient", flat=True).distinct()[:1000])
    return found


def _chunks(query: QuerySet[Any], size: int = 0) -> Iterator[list[Any]]:
    """The primary keys of `query`'s rows, `size` (ID_CHUNK) at a time: no more than a chunk's ids are held.

    PostgreSQL: one scan, on a server-side cursor read a chunk at a time (its cursors are insensitive: the
    transaction's own updates of the rows after it opened are not seen). Elsewhere (SQLite, where a statement
    still reading a table may see it change under it): in key order, each chunk read once the caller has handled
    the one before, starting after its last key; each chunk is a scan of its own."""
    size = size or ID_CHUNK
    if connection.vendor == "postgresql":
        ids = query.order_by().values_list("pk", flat=True).iterator(chunk_size=size)
        while chunk := list(islice(ids, size)):
            yield chunk
        return
    last = None
    while True:
        page = query if last is None else query.filter(pk__gt=last)
        chunk = list(page.order_by("pk").values_list("pk", flat=True)[:size])
        if chunk:
            yield chunk
        if len(chunk) < size:
            return
        last = chunk[-1]


def _erase_events(tenant_id: str, user_id: str, pseudonym: str) -> int:
    erased = 0
    for ids in _chunks(Event.objects.filter(tenant_id=tenant_id, user_id=user_id)):
        # The dedupe key is unique per tenant: each event's becomes "erased:<its own id>", here and in its key.
        Event.objects.filter(pk__in=ids).update(
            user_id=pseudonym, payload=ERASED, metadata={}, event_id="",
            dedupe_key=Concat(Value("erased:"), Cast("id", output_field=CharField())))
        EventKey.objects.filter(event_id__in=ids).update(
            dedupe_key=Concat(Value("erased:"), Cast("event_id", output_field=CharField())))
        erased += len(ids)
    return erased


def _leave_audiences(tenant_id: str, user_id: str) -> int:
    """Their id out of the lists of the tenant's audience events (fan-outs' recipients, payloads' user_ids), and
    out of fan-outs' cursors. Each fan-out is locked first (a runner holds it while it writes a chunk and moves
    its cursor, audiences.runner): its cursor is read as the runner committed it, and no chunk runs until the
    erasure is committed (the person's subscription and contact gone by then)."""
    left = 0
    for ids in _chunks(FanOut.objects.filter(tenant_id=tenant_id), AUDIENCE_CHUNK):
        for fanout in (FanOut.objects.filter(pk__in=ids).select_for_update().order_by("pk")
                       .only("pk", "tenant_id", "recipients", "event_id", "cursor", "state", "audience", "topic_id",
                             "total")):
            listed = fanout.recipients or []
            remaining = [one for one in listed if one != user_id]
            if fanout.cursor == user_id:
                cursor = _cursor_before(fanout, user_id, remaining) if fanout.state in OPEN_STATES else ""
                FanOut.objects.filter(pk=fanout.pk).update(cursor=cursor)
            if len(remaining) == len(listed):
                continue
            # The total is the list's length (runners read the list again when it changes: audiences.runner), and
            # `written` counts the list's recipients up to the cursor.
            written = F("written") - 1 if fanout.cursor and user_id <= fanout.cursor else F("written")
            FanOut.objects.filter(pk=fanout.pk).update(
                recipients=remaining, total=None if fanout.total is None else len(remaining),
                written=Greatest(written, 0))
            event = Event.objects.filter(pk=fanout.event_id).only("payload").first()
            if event is not None and isinstance(event.payload.get("user_ids"), list):
                payload = {**event.payload, "user_ids": [one for one in event.payload["user_ids"] if one != user_id]}
                Event.objects.filter(pk=fanout.event_id).update(payload=payload)
            left += 1
    return left


def _cursor_before(fanout: FanOut, user_id: str, remaining: list[str]) -> str:
    """What a running fan-out whose cursor is the person resumes after instead: the id before theirs in its
    audience's order (audiences.sources: a list's in Python's order, a topic's or the tenant's in the database's),
    so its next recipient is the same; "" (the start) when no one comes before them."""
    if fanout.audience == AudienceKind.RECIPIENTS:
        index = bisect.bisect_left(remaining, user_id)  # the list is kept sorted
        return remaining[index - 1] if index else ""
    rows: QuerySet[Any]
    if fanout.audience == AudienceKind.TOPIC:
        if fanout.topic_id is None:  # the topic was deleted: the fan-out has no one left
            return ""
        rows = Subscription.objects.filter(topic_id=fanout.topic_id, user_id__lt=user_id)
    else:
        rows = Contact.objects.filter(tenant_id=fanout.tenant_id, user_id__lt=user_id)
    return str(rows.order_by("-user_id").values_list("user_id", flat=True).first() or "")


def _erase_records(tenant_id: str, user_id: str, pseudonym: str) -> tuple[int, int]:
    records = attempts = 0
    for chunk in _chunks(NotificationRecord.objects.filter(tenant_id=tenant_id, user_id=user_id)):
        records += len(chunk)
        attempts += DeliveryAttempt.objects.filter(record_id__in=chunk).exclude(error_detail="").update(
            error_detail="")
        mine = NotificationRecord.objects.filter(pk__in=chunk)
        # Not sent yet: it never will be (its address and payload are going). One being sent now finishes.
        mine.filter(status__in=CANCELLABLE).update(status=Status.CANCELLED.value, reason=CancelReason.ERASED.value,
                                                   next_attempt_at=None)
        mine.filter(recipient__startswith="device:").update(user_id=pseudonym, error_detail="", cancel_key="")
        mine.exclude(recipient__startswith="device:").update(user_id=pseudonym, recipient="", error_detail="",
                                                             cancel_key="")
    return records, attempts


def _erase_windows(tenant_id: str, user_id: str, pseudonym: str) -> int:
    erased = 0
    for ids in _chunks(DigestWindow.objects.filter(tenant_id=tenant_id, user_id=user_id)):
        for pk in ids:
            key = hashlib.sha256(f"{pseudonym}:{pk}".encode()).hexdigest()
            DigestWindow.objects.filter(pk=pk).update(user_id=pseudonym, key=key)
        erased += len(ids)
    return erased


def _erase_rejections(tenant_id: str, user_id: str, addresses: set[str]) -> int:
    """Rejected events whose kept original names them: by their id as a JSON string, or an address of theirs."""
    names: Any = Q(original_redacted__contains=json.dumps(user_id))
    for address in addresses:
        names |= Q(original_redacted__icontains=address)  # an address in any case (Bob@Example.com)
    return RejectedEvent.objects.filter(names, tenant_id=tenant_id).update(
        original_redacted=ERASED_TEXT, original_encrypted="", detail=ERASED_TEXT)



def _erase_admin_log(tenant_id: str, user_id: str, addresses: set[str]) -> int:
    """Django's admin log entries naming them: their object's name (a contact is "<tenant>/<user id>") or change
    message holds their id as a whole word (not after another tenant's "<tenant>/"), or an address of theirs in
    any case. The entry stays (who did what to which kind of object, when), its texts replaced."""
    candidates: Any = Q(object_repr__contains=user_id) | Q(change_message__contains=user_id)
    for address in addresses:
        candidates |= Q(object_repr__icontains=address) | Q(change_message__icontains=address)
    # Not inside a longer id, an address or a name with a dot ("u-1.old"); a sentence's full stop may follow.
    word = re.compile(rf"(?<![\w.@+-])(?:([\w.-]+)/)?{re.escape(user_id)}(?![\w@+-]|\.\w)")
    lowered = [address.lower() for address in addresses]

    def names_them(text: str) -> bool:
        if any(address in text.lower() for address in lowered):
            return True
        return any(match.group(1) in (None, tenant_id) for match in word.finditer(text))

    erased = 0
    for ids in _chunks(LogEntry.objects.filter(candidates)):
        rows = LogEntry.objects.filter(pk__in=ids).values_list("pk", "object_repr", "change_message")
        named = [pk for pk, name, message in rows if names_them(name or "") or names_them(message or "")]
        erased += LogEntry.objects.filter(pk__in=named).update(object_repr=ERASED_TEXT, change_message=ERASED_TEXT)
    return erased
