"""Stable keys shared by every domain. Values are stored in the database and exported as metric labels."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import cast


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PUSH = "push"
    IN_APP = "in_app"

    @classmethod
    def parse(cls, value: str) -> Channel:
        normalised = value.strip().lower().replace("-", "_")
        if normalised == "inapp":
            normalised = "in_app"
        return cls(normalised)

    @classmethod
    def known(cls) -> tuple[Channel, ...]:
        """The declared members, then the channels added at runtime (see `declare`)."""
        return cast("tuple[Channel, ...]", tuple(cls._value2member_map_.values()))

    @classmethod
    def declare(cls, value: str) -> Channel:
        """A channel added at runtime (an app's own, a test's throwaway one; channels.spec.register_channel
        calls this): an enum class cannot gain members once made, so the value gets a pseudo-member, as
        enum.Flag makes for its combinations. `Channel(value)` then answers it and `Channel.known()` lists
        it; `for channel in Channel` (the declared members) does not."""
        member = cls._value2member_map_.get(value)
        if member is None:
            if not value.isidentifier() or value != value.lower():
                raise ValueError(f"a channel is a lower-case identifier, not {value!r}")
            member = str.__new__(cls, value)
            member._name_, member._value_ = value.upper(), value
            cls._value2member_map_[value] = member
        return member  # type: ignore[return-value]

    @classmethod
    def forget(cls, value: str) -> None:
        """Removes a channel added at runtime (declared members stay)."""
        if value not in cls._member_map_.values():
            cls._value2member_map_.pop(value, None)


class Status(StrEnum):
    PENDING = "pending"
    #: Waiting for its time (a `deliver_at`, a `delay`, a tenant's default delay): claimed once due, like
    #: pending. The reason says why it waits (WaitReason).
    SCHEDULED = "scheduled"
    SENDING = "sending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    #: Never sent: cancelled by its cancel key, or superseded by a newer notification (the reason says which).
    CANCELLED = "cancelled"

    @classmethod
    def final(cls) -> frozenset[Status]:
        return frozenset({cls.SENT, cls.FAILED, cls.SKIPPED, cls.CANCELLED})


class WaitReason(StrEnum):
    """Why a `scheduled` record waits (its `reason`)."""

    SCHEDULED = "scheduled"  # the event's deliver_at or delay, or the tenant's default delay
    #: Held in a digest window (notifications/digests): the window's close sends one digest for all of them.
    DIGESTING = "digesting"
    #: It would have gone inside the recipient's quiet hours (scheduling/quiet_hours.py): held until they end.
    HELD_QUIET_HOURS = "held_quiet_hours"


class RejectionReason(StrEnum):
    INVALID_JSON = "invalid_json"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    UNSUPPORTED_EVENT_TYPE = "unsupported_event_type"
    MISSING_TENANT_ID = "missing_tenant_id"
    INVALID_PAYLOAD_FIELD = "invalid_payload_field"
    #: Valid on its face, but taking it in failed (a custom handler's bug, a value the database refused).
    PROCESSING_ERROR = "processing_error"
    #: Addressed to an audience the tenant has not (a topic it has not created; `to_all` it has not allowed).
    AUDIENCE_REFUSED = "audience_refused"


class SkipReason(StrEnum):
    NO_ADDRESS = "no_address"
    OPTED_OUT = "opted_out"
    TENANT_DISABLED_EVENT = "tenant_disabled_event"
    TENANT_DISABLED_CHANNEL = "tenant_disabled_channel"
    INVALID_ADDRESS = "invalid_address"
    RATE_LIMITED = "rate_limited"
    #: Ended in a digest: the reason reads "digested_into:<the digest's record id>" (notifications/digests).
    DIGESTED_INTO = "digested_into"
    #: An audience's recipient (notifications/audiences) the tenant's directory has no contact for.
    UNKNOWN_RECIPIENT = "unknown_recipient"
    #: A topic's subscriber whose subscription leaves this channel out (Subscription.channels).
    TOPIC_PREFERENCE = "topic_preference"
    #: A tenant's rule (notifications/rules) said not to send it: error_detail names the rule and its reason.
    RULE_SKIPPED = "rule_skipped"


class Lane(IntEnum):
    """A record's claim lane: the worker claims what is due in the normal lane first, then the bulk lane. A
    fan-out's records (notifications/audiences) go in the bulk lane, so a million-recipient broadcast never
    delays a 2FA code written after it."""

    NORMAL = 0
    BULK = 1


class PushPlatform(StrEnum):
    FCM = "fcm"
    APNS = "apns"
    WEBPUSH = "webpush"


class Outcome(StrEnum):
    PROCESSED = "processed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
