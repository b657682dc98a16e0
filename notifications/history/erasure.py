"""Erasure: one person's data removed or irreversibly anonymised in every table, on request (GDPR Art. 17).

What happens to each table, in one place (`erase_user`, one transaction):

- contact, devices, preferences, topic subscriptions, inbox messages: deleted;
- their events (`user_id` theirs): user id -> the pseudonym; payload -> `{"$erased": true}`, metadata -> `{}`; the
  producer's event id and the dedupe key replaced (either may embed them);
- audience events and fan-outs listing them: their id taken out of the list (`recipients`, payload `user_ids`)
  and out of a finished fan-out's cursor;
- notification records (`user_id` theirs): those not sent yet cancelled (reason `erased`); user id -> the
  pseudonym; address, error text and cancel key
  blanked (a 2FA code's supersede key is made of their id; a push record's `device:N` stays: it names a
  deleted row);
- delivery attempts of those records: error text blanked (a bounce may quote the address);
- digest windows: user id -> the pseudonym; key re-hashed (it was a hash of their id);
- rejected events naming them (their id, e-mail or phone in the kept original): originals and detail blanked.

What stays: event types, times, channels, statuses and counts, so the tenant's statistics still add up. The
pseudonym is random (`erased-` and 16 hex digits): nothing links it back to the person. An `Erasure` row records
the erasure, its pseudonym, who asked and the counts, never the person's id or data.

Not found: another person's event that names this one in free text (a comment's body, `mentioned_by`): only
their own fields and ids are known to be theirs."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat

from notifications.audiences.models import OPEN_STATES, FanOut, Subscription
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
#: Rows updated per statement where ids are listed (SQLite takes at most 32,766 parameters).
ID_CHUNK = 5000


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


def _erase_events(tenant_id: str, user_id: str, pseudonym: str) -> int:
    ids = list(Event.objects.filter(tenant_id=tenant_id, user_id=user_id).values_list("pk", flat=True))
    for start in range(0, len(ids), ID_CHUNK):
        # The dedupe key is unique per tenant: each event's becomes "erased:<its own id>", here and in its key.
        Event.objects.filter(pk__in=ids[start:start + ID_CHUNK]).update(
            user_id=pseudonym, payload=ERASED, metadata={}, event_id="",
            dedupe_key=Concat(Value("erased:"), Cast("id", output_field=CharField())))
        EventKey.objects.filter(event_id__in=ids[start:start + ID_CHUNK]).update(
            dedupe_key=Concat(Value("erased:"), Cast("event_id", output_field=CharField())))
    return len(ids)


def _leave_audiences(tenant_id: str, user_id: str) -> int:
    """Their id out of the lists of the tenant's audience events (fan-outs' recipients, payloads' user_ids), and
    out of a finished fan-out's cursor (an open one's cursor is where it resumes: it stays until it finishes)."""
    left = 0
    for fanout in FanOut.objects.filter(tenant_id=tenant_id).only("pk", "recipients", "event_id", "cursor", "state"):
        if fanout.cursor == user_id and fanout.state not in OPEN_STATES:
            FanOut.objects.filter(pk=fanout.pk).update(cursor="")
        if user_id not in (fanout.recipients or ()):
            continue
        fanout.recipients = [one for one in fanout.recipients if one != user_id]
        FanOut.objects.filter(pk=fanout.pk).update(recipients=fanout.recipients)
        event = Event.objects.filter(pk=fanout.event_id).only("payload").first()
        if event is not None and isinstance(event.payload.get("user_ids"), list):
            payload = {**event.payload, "user_ids": [one for one in event.payload["user_ids"] if one != user_id]}
            Event.objects.filter(pk=fanout.event_id).update(payload=payload)
        left += 1
    return left


def _erase_records(tenant_id: str, user_id: str, pseudonym: str) -> tuple[int, int]:
    records = NotificationRecord.objects.filter(tenant_id=tenant_id, user_id=user_id)
    ids = list(records.values_list("pk", flat=True))
    attempts = 0
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start:start + ID_CHUNK]
        attempts += DeliveryAttempt.objects.filter(record_id__in=chunk).exclude(error_detail="").update(
            error_detail="")
        mine = NotificationRecord.objects.filter(pk__in=chunk)
        # Not sent yet: it never will be (its address and payload are going). One being sent now finishes.
        mine.filter(status__in=CANCELLABLE).update(status=Status.CANCELLED.value, reason=CancelReason.ERASED.value,
                                                   next_attempt_at=None)
        mine.filter(recipient__startswith="device:").update(user_id=pseudonym, error_detail="", cancel_key="")
        mine.exclude(recipient__startswith="device:").update(user_id=pseudonym, recipient="", error_detail="",
                                                             cancel_key="")
    return len(ids), attempts


def _erase_windows(tenant_id: str, user_id: str, pseudonym: str) -> int:
    windows = list(DigestWindow.objects.filter(tenant_id=tenant_id, user_id=user_id).values_list("pk", flat=True))
    for pk in windows:
        key = hashlib.sha256(f"{pseudonym}:{pk}".encode()).hexdigest()
        DigestWindow.objects.filter(pk=pk).update(user_id=pseudonym, key=key)
    return len(windows)


def _erase_rejections(tenant_id: str, user_id: str, addresses: set[str]) -> int:
    """Rejected events whose kept original names them: by their id as a JSON string, or an address of theirs."""
    names: Any = Q(original_redacted__contains=json.dumps(user_id))
    for address in addresses:
        names |= Q(original_redacted__icontains=address)  # an address in any case (Bob@Example.com)
    return RejectedEvent.objects.filter(names, tenant_id=tenant_id).update(
        original_redacted=ERASED_TEXT, original_encrypted="", detail=ERASED_TEXT)

