"""Planning a batch's records at intake: one per channel, or per device for push; each skip is a record with
its reason. Each event is planned on its own guard: what one event's planning raises (a tenant's broken
setting, a handler bug) sets that event aside as a failure (intake.isolation) and the others are planned."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from notifications.channels.models import Device
from notifications.channels.spec import CHANNEL_SPECS, Target, channel_spec
from notifications.digests.rules import DIGESTS, DigestRule, digest_rule, rate_limit_rule
from notifications.digests.windows import open_windows
from notifications.enums import Channel, Lane, SkipReason, Status, WaitReason
from notifications.events.envelope import ValidatedEvent
from notifications.intake.contacts import devices_for
from notifications.intake.isolation import NOT_PER_EVENT, Failures
from notifications.intake.preferences import PreferenceBook
from notifications.intake.ratelimits import RateLimiter
from notifications.rules.book import RuleBook
from notifications.scheduling.timing import Timing
from notifications.tenants.models import Tenant

logger = logging.getLogger(__name__)

@dataclass(slots=True)
class Accepted:
    index: int
    event: ValidatedEvent
    pk_text: str  # the event's new UUID, as text: what the records, the inbox and the results want
    stored_payload: dict[str, Any]
    contact: dict[str, str] = field(default_factory=dict)
    # An audience's recipient (notifications/audiences): not in the tenant's directory; the channels their topic
    # subscription narrows to (None: all); the claim lane of their records.
    unknown: bool = False
    only: frozenset[str] | None = None
    lane: int = 0


class Planned:
    """One notification record before it is written: a plain row, not a model instance (intake plans
    thousands per batch, and Django's Model.__init__ was most of intake's time)."""

    __slots__ = ("attempts", "channel", "counted", "device_id", "digest", "digest_window", "error_detail", "item",
                 "next_attempt_at", "pk", "provider", "reason", "recipient", "route", "sent_at", "status")
    sent_at: str | None  # ISO text, as COPY takes it

    COLUMNS = ("tenant_id", "event_id", "event_type", "user_id", "channel", "recipient", "device_id", "status",
               "reason", "error_detail", "provider", "attempts", "next_attempt_at", "sent_at", "cancel_key",
               "digest_window", "lane", "route", "rate_counted")

    def __init__(self, item: Accepted, channel: str, recipient: str, device_id: int | None, status: str,
                 reason: str, next_attempt_at: Any) -> None:
        self.item, self.channel, self.recipient, self.device_id = item, channel, recipient, device_id
        self.status, self.reason, self.next_attempt_at = status, reason, next_attempt_at
        self.error_detail, self.provider, self.attempts, self.sent_at = "", "", 0, None
        self.pk: int | None = None
        self.digest: DigestRule | None = None  # digested: the rule of its window (notifications/digests)
        self.digest_window: int | None = None
        self.route: str | None = None  # a tenant's rule's provider or template (notifications/rules)
        self.counted: bool | None = None  # True: a rate-limit rule covers its event type (intake/ratelimits.py)

    def row(self) -> tuple[Any, ...]:
        """The row as COPY takes it (see insert_rows(plain=True)): the timestamps are ISO text already."""
        event = self.item.event
        return (event.tenant_id, self.item.pk_text, event.event_type, event.user_id, self.channel, self.recipient,
                self.device_id, self.status, self.reason, self.error_detail, self.provider, self.attempts,
                self.next_attempt_at, self.sent_at, event.cancel_key, self.digest_window, self.item.lane,
                self.route, self.counted)


def address_for(channel: Channel | str, contact: dict[str, str], user_id: str) -> str:
    """A user-target record's address, as its channel's spec resolves it."""
    return channel_spec(channel).address(contact, user_id)


def planner_for(accepted: list[Accepted], tenants: dict[str, Tenant], now: datetime, *,
                failures: Failures | None = None, rules: RuleBook | None = None, windows: bool = True) -> Planner:
    """The one place a planner is assembled (intake, a fan-out's chunk, a rule set's dry run, a replay's dry run),
    with what it reads for these events, one query each: their users' preferences, active devices and recent
    records (rate limits). An audience's recipient the directory does not know (`unknown`) is not looked up.

    - `failures`: intake's: a tenant whose rate limits cannot be read fails its own events (load_limiter), and
      events already failed are not looked up; None: reading them raises.
    - `rules`: a rule book standing in for the tenants' current rules (a draft's); None: theirs.
    - `windows`: False leaves out the planner's one write, opening digest windows (finish): a dry run."""
    users = {(a.event.tenant_id, a.event.user_id) for a in accepted if a.event.user_id and not a.unknown}
    preferences, devices = PreferenceBook.load(users), devices_for(users)
    limiter = load_limiter(tenants, accepted, failures)
    return Planner(tenants, preferences, limiter, devices, Timing(tenants, now), now.isoformat(), rules=rules,
                   windows=windows)


def load_limiter(tenants: dict[str, Tenant], accepted: list[Accepted], failures: Failures | None) -> RateLimiter:
    """The batch's rate limits, read in one query. If reading them raises (a tenant's stored rules that no code
    path can use) and `failures` is given, they are read tenant by tenant, and the events of a tenant whose rules
    cannot be read are set aside as failures: one tenant's settings never fail the others' events."""
    failed = failures.by_index if failures is not None else {}
    keys = [(a.event.tenant_id, a.event.user_id, a.event.event_type) for a in accepted
            if a.index not in failed and not a.unknown]
    if failures is None:
        return RateLimiter.load(tenants, keys)
    try:
        return RateLimiter.load(tenants, keys)
    except NOT_PER_EVENT:
        raise
    except Exception as err:  # noqa: BLE001 - find the tenant whose settings it was
        logger.error("rate limits of a batch could not be read (%s): reading them tenant by tenant",
                     type(err).__name__)
    broken: dict[str, BaseException] = {}
    for tenant_id in {key[0] for key in keys}:
        try:
            RateLimiter.load(tenants, [key for key in keys if key[0] == tenant_id])
        except NOT_PER_EVENT:
            raise
        except Exception as err:  # noqa: BLE001 - this tenant's own settings
            broken[tenant_id] = err
    for item in accepted:
        if item.event.tenant_id in broken:
            failures.add(item.index, item.event, broken[item.event.tenant_id])
    return RateLimiter.load(tenants, [key for key in keys if key[0] not in broken])


_PENDING, _SKIPPED, _SCHEDULED = Status.PENDING.value, Status.SKIPPED.value, Status.SCHEDULED.value
_DEVICE = Target.DEVICE
_NO_ADDRESS, _INVALID_ADDRESS = SkipReason.NO_ADDRESS.value, SkipReason.INVALID_ADDRESS.value
_DIGESTING = WaitReason.DIGESTING.value
_UNKNOWN, _TOPIC_PREFERENCE = SkipReason.UNKNOWN_RECIPIENT.value, SkipReason.TOPIC_PREFERENCE.value
_RULE_SKIPPED, _NORMAL = SkipReason.RULE_SKIPPED.value, Lane.NORMAL.value


class Planner:
    """Plans a batch's records. The tenant's switches are looked up once per (tenant, event type, channel)."""

    def __init__(self, tenants: dict[str, Tenant], preferences: PreferenceBook, limiter: RateLimiter,
                 devices: dict[tuple[str, str], list[Device]], timing: Timing, now_text: str, *,
                 rules: RuleBook | None = None, windows: bool = True) -> None:
        self.tenants, self.preferences, self.limiter, self.devices = tenants, preferences, limiter, devices
        self.timing, self.now_text = timing, now_text
        # The tenants' rules (notifications/rules), compiled once per version; or a draft's, standing in.
        self.rules = RuleBook(tenants) if rules is None else rules
        self.windows = windows  # False: finish() opens no digest window (a dry run reports that a record would wait)
        self.records: list[Planned] = []
        self._switches: dict[tuple[str, str, str], str] = {}
        self._digests: dict[tuple[str, str, str], DigestRule | None] = {}
        self._undigested: set[str] = set()  # tenants without digest rules
        self.digesting = False  # any record of the batch digested: its windows are joined after planning

    def plan_all(self, accepted: list[Accepted], contacts: dict[tuple[str, str], dict[str, str]],
                 failures: Failures) -> None:
        """Each event's contact (the directory's, then its payload's) and records. An event whose planning
        raises leaves no record behind and becomes a failure; database errors are not one event's."""
        records, failed = self.records, failures.by_index
        for item in accepted:
            if item.index in failed:
                continue
            event = item.event
            planned = len(records)
            try:
                stored = contacts.get((event.tenant_id, event.user_id), {})
                item.contact = {**stored, **event.handler.get_contact_fields(event.payload)}
                self.plan(item)
            except NOT_PER_EVENT:
                raise
            except Exception as err:  # noqa: BLE001 - this event's own problem: the others go on
                del records[planned:]
                failures.add(item.index, event, err)
        self.finish()

    def finish(self) -> None:
        """After the last plan(): the digest windows the records joined are opened or joined (digests.windows)."""
        if self.digesting and self.windows:
            open_windows(self.records, self.tenants, self.timing.now, self.now_text)

    def _switched_off(self, tenant_id: str, event_type: str, channel: str) -> str:
        key = (tenant_id, event_type, channel)
        try:
            return self._switches[key]
        except KeyError:
            tenant = self.tenants[tenant_id]
            if tenant.is_event_disabled(event_type):
                reason = SkipReason.TENANT_DISABLED_EVENT.value
            elif tenant.is_channel_disabled(event_type, channel):
                reason = SkipReason.TENANT_DISABLED_CHANNEL.value
            else:
                reason = ""
            self._switches[key] = reason
            return reason

    def _digest_rule(self, tenant_id: str, event_type: str, channel: str) -> DigestRule | None:
        """The tenant's digest rule (digests.rules); a tenant without digests costs one set look-up."""
        if tenant_id in self._undigested:
            return None
        key = (tenant_id, event_type, channel)
        try:
            return self._digests[key]
        except KeyError:
            settings = self.tenants[tenant_id].settings
            if not isinstance(settings, dict) or not settings.get(DIGESTS):
                self._undigested.add(tenant_id)
                return None
            rule = self._digests[key] = digest_rule(settings, event_type, channel)
            return rule

    def may_digest(self, tenant_id: str, event_type: str, channels: Any) -> bool:
        """Whether any record of this event type on `channels` could be digested (a digest rule, or a rate limit
        whose excess is digested): its window is then opened in the database by finish()."""
        return any(self._digest_rule(tenant_id, event_type, str(channel)) is not None
                   or self.limiter.digest_excess(tenant_id, event_type, str(channel)) for channel in channels)

    def plan(self, item: Accepted) -> None:
        event = item.event
        handler = event.handler
        tenant_id, user_id, event_type = event.tenant_id, event.user_id, event.event_type
        channels: Any = handler.get_channels(event_type, event.payload)
        # The tenant's rules (notifications/rules: README.md says what each action may do to which event).
        rules = self.rules.outcome(event, item.contact)
        if rules is not None:
            channels = rules.channels(channels, handler.mandatory)
            if rules.lane is not None and item.lane == _NORMAL and not handler.critical:
                item.lane = rules.lane  # a fan-out's records stay in the bulk lane; a 2FA code in the normal
        counted = self.limiter.covers(tenant_id, event_type) or None  # the records its rules' windows count
        for member in channels:
            # One dict lookup (a member or its text; Channel() is slow): the channel's facts, its stored text.
            spec = CHANNEL_SPECS.get(member) or channel_spec(member)
            channel = spec.value
            skip = self._switched_off(tenant_id, event_type, channel)
            if not skip and item.unknown:  # an audience's recipient the directory does not know
                skip = _UNKNOWN
            if not skip and item.only is not None and channel not in item.only and not handler.mandatory:
                skip = _TOPIC_PREFERENCE  # their topic subscription leaves this channel out
            if not skip and not handler.mandatory and not self.preferences.allows(tenant_id, user_id, event_type,
                                                                                   channel):
                skip = SkipReason.OPTED_OUT.value
            if not skip and rules is not None and rules.skip is not None and not handler.mandatory:
                skip = _RULE_SKIPPED
            targets: list[tuple[str, int | None]]
            if spec.target is _DEVICE:
                devices = self.devices.get((tenant_id, user_id))
                targets = [(f"device:{device.pk}", device.pk) for device in devices] if devices else [("", None)]
            else:
                field = spec.address_field
                targets = [(item.contact.get(field, "") if field else user_id, None)]
            check = spec.address_check
            reasons = []
            for address, _ in targets:
                if skip:
                    reasons.append(skip)
                elif not address:
                    reasons.append(_NO_ADDRESS)
                elif check is not None and not check(address):
                    reasons.append(_INVALID_ADDRESS)
                else:
                    reasons.append("")
            # One notification counts once against a rate limit, however many devices it goes to. Security
            # alerts are never rate-limited away, nor digested. A digested record (notifications/digests) is
            # not rate-limited: its window sends one message.
            critical = handler.critical
            digest = self._digest_rule(tenant_id, event_type, channel) if not critical else None
            if (not skip and digest is None and "" in reasons and not critical
                    and not self.limiter.allow(tenant_id, user_id, event_type, channel)):
                excess = self.limiter.digest_excess(tenant_id, event_type, channel)
                if excess:
                    digest = rate_limit_rule(excess)
                else:
                    logger.info("rate limit reached: tenant_id=%s user_id=%s event_type=%s channel=%s: skipped",
                                tenant_id, user_id, event_type, channel)
                    reasons = [reason or SkipReason.RATE_LIMITED.value for reason in reasons]
            # When the records that go, go (scheduling.timing): at once, or `scheduled` until their time, with
            # the reason they wait. A digested record waits for its window's close (digests.windows).
            if digest is not None:  # its due time, if any, is its window's close (digests.windows)
                status, wait, at = _SCHEDULED, _DIGESTING, ""
            else:
                due = self.timing.due(event, channel, item.contact, rules.delay if rules is not None else None)
                status, wait, at = (_PENDING, "", self.now_text) if due is None else (
                    _SCHEDULED, due[1], due[0].isoformat())
            for (address, device_id), reason in zip(targets, reasons, strict=True):
                planned = Planned(item, channel, address[:320], device_id, _SKIPPED if reason else status,
                                  reason or wait, None if reason else at)
                if digest is not None and not reason:
                    planned.digest, self.digesting = digest, True
                if not reason:  # a skipped record never counts (the read leaves them out too)
                    planned.counted = counted
                if rules is not None:
                    planned.route = rules.route(channel)
                    if reason == _RULE_SKIPPED and rules.skip is not None:
                        planned.error_detail = rules.skip_detail()
                self.records.append(planned)
