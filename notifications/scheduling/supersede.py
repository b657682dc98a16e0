"""Supersede: a newer notification cancels the pending older one it makes pointless. The rule, in one place.

`SUPERSEDES` says, per event type, which notifications not yet sent a new event of that type cancels, and on
which fields the two must agree ("user_id" is the event's user; any other name is a payload field):

- a new 2FA code for a user cancels that user's pending older code;
- "payment succeeded" for an invoice cancels a pending "payment failed" of the same invoice_id.

A tenant extends or overrides it per event type with settings["cancels"], in the same shape:
`{"invoice.payment.succeeded": [{"event_type": "invoice.payment.failed", "match": ["invoice_id"]}]}`. A type
the tenant lists replaces the built-in entry of that type (an empty list: it supersedes nothing); the other
types keep theirs. The setting is checked when saved (tenants.limits -> `cancels_problems`) and read
defensively at intake (an entry that is not a rule is ignored, never a failure).

How it stays fast: the older records are found by the cancel key index, not by reading payloads. At intake, an
event of a type some rule targets gets an automatic cancel key from the fields the rule matches on
(`supersede_key`: "supersede:invoice.payment.failed:["INV-1001"]") unless it carries its own `cancel_key`
(then only that key cancels it); a superseding event computes the same key from its own fields and cancels
it. So every rule that targets one event type must match on the same fields (a save with two is refused). The
mechanics are in intake/cancels.py (which record is cancelled by which event) and scheduling/cancel.py (the
UPDATE). Superseded records end `cancelled` with reason `superseded`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from notifications.storable import CANCEL_KEY_LENGTH, FIELD_NAME, ID_LENGTH, unstorable

#: The tenant setting.
CANCELS = "cancels"
#: "user_id" in a rule's match means the event's user (the envelope's user_id, else the payload's).
USER = "user_id"


@dataclass(frozen=True)
class Supersedes:
    """A new event cancels the not-yet-sent notifications of `event_type` whose `match` fields equal its own."""

    event_type: str
    match: tuple[str, ...]


#: Built in. Match fields are listed sorted (a tenant's rules are sorted when read).
SUPERSEDES: Mapping[str, tuple[Supersedes, ...]] = {
    "auth.2fa.code.requested": (Supersedes("auth.2fa.code.requested", (USER,)),),
    "invoice.payment.succeeded": (Supersedes("invoice.payment.failed", ("invoice_id",)),),
}

# Bounds of the tenant setting.
MAX_TYPES = 200
MAX_RULES_PER_TYPE = 20
MAX_MATCH_FIELDS = 5
EVENT_TYPE_LENGTH = ID_LENGTH
KEY_LENGTH = CANCEL_KEY_LENGTH
PREFIX = "supersede:"

Rules = Mapping[str, tuple[Supersedes, ...]]


def rules_for(settings: Any) -> Rules:
    """The rules a tenant's events follow: the built-in ones, with the types its settings list replaced. A
    stored value that is not a rule is skipped (read defensively: it may predate the checks)."""
    own = settings.get(CANCELS) if isinstance(settings, dict) else None
    if not isinstance(own, dict) or not own:
        return SUPERSEDES
    merged = dict(SUPERSEDES)
    for event_type, entries in own.items():
        if isinstance(event_type, str) and isinstance(entries, list):
            merged[event_type] = tuple(rule for rule in map(_rule, entries) if rule is not None)
    return merged


def targets(rules: Rules) -> dict[str, tuple[str, ...]]:
    """Event type -> the fields its automatic cancel key is made of. Should stored rules disagree about a type
    (refused on save), the first superseding type in sorted order decides."""
    found: dict[str, tuple[str, ...]] = {}
    for event_type in sorted(rules):
        for rule in rules[event_type]:
            found.setdefault(rule.event_type, rule.match)
    return found


def supersede_key(event_type: str, match: tuple[str, ...], user_id: str, payload: Mapping[str, Any]) -> str | None:
    """The cancel key shared by an event of `event_type` and the events that supersede it; None when a matched
    field is missing or not a plain value (nothing is superseded on an absent invoice_id)."""
    values = []
    for name in match:
        value = user_id if name == USER else payload.get(name)
        if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
            return None
        values.append(str(value))
    key = PREFIX + event_type + ":" + json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    if len(key) <= KEY_LENGTH:
        return key
    return PREFIX + "sha256:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def cancels_problems(value: Any) -> dict[str, str]:
    """Problems of settings["cancels"] by key (empty when it is a valid set of rules), for Tenant.clean()."""
    if not isinstance(value, dict) or len(value) > MAX_TYPES:
        return {CANCELS: f"must be an object of at most {MAX_TYPES} event types, each a list of rules"}
    problems: dict[str, str] = {}
    for event_type, entries in value.items():
        where = f"{CANCELS}[{str(event_type)[:EVENT_TYPE_LENGTH]!r}]"
        if not _is_type(event_type):
            problems[CANCELS] = f"event types must be non-empty strings of at most {EVENT_TYPE_LENGTH} characters"
        elif not isinstance(entries, list) or len(entries) > MAX_RULES_PER_TYPE:
            problems[where] = f"must be a list of at most {MAX_RULES_PER_TYPE} rules"
        else:
            for number, entry in enumerate(entries):
                if _rule(entry) is None:
                    problems[f"{where}[{number}]"] = (
                        f'must be {{"event_type": "...", "match": ["field", ...]}} with 1 to {MAX_MATCH_FIELDS} '
                        "distinct field names (letters, digits and '_'; \"user_id\" is the event's user)")
    if problems:
        return problems
    seen: dict[str, tuple[str, tuple[str, ...]]] = {}
    merged = rules_for({CANCELS: value})
    for event_type in sorted(merged):
        for rule in merged[event_type]:
            first = seen.setdefault(rule.event_type, (event_type, rule.match))
            if first[1] != rule.match:
                problems[f"{CANCELS}[{event_type!r}]"] = (
                    f"{rule.event_type} is matched on {list(first[1])} by {first[0]}'s rule: every rule that "
                    f"cancels {rule.event_type} must match on the same fields")
    return problems


def _is_type(value: Any) -> bool:
    return (isinstance(value, str) and 0 < len(value) <= EVENT_TYPE_LENGTH and bool(value.strip())
            and not unstorable(value))


def _rule(entry: Any) -> Supersedes | None:
    if not isinstance(entry, dict) or set(entry) != {"event_type", "match"} or not _is_type(entry["event_type"]):
        return None
    match = entry["match"]
    if (not isinstance(match, list) or not 0 < len(match) <= MAX_MATCH_FIELDS or len(set(map(str, match))) != len(match)
            or not all(isinstance(name, str) and FIELD_NAME.fullmatch(name) for name in match)):
        return None
    return Supersedes(entry["event_type"], tuple(sorted(match)))  # the order of the fields does not matter
