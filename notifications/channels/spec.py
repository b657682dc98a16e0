"""What a channel is, declared once: one frozen ChannelSpec per channel, read by every site that needs a channel
fact (intake planning, the delivery claim and retry rule, provider chains, template checks, rendering, the
commands and the API). Adding a channel: see "Add a channel" in notifications/channels/README.md.

CHANNEL_SPECS is keyed by the channel's stored text ("email"); a `Channel` member is a str equal to its value,
so `CHANNEL_SPECS[Channel.EMAIL]` and `CHANNEL_SPECS["email"]` are the same lookup: one dict lookup, which is
what intake's planner does per record (no function call chain on the hot path)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from notifications.enums import Channel
from notifications.events.handlers.fields import E164


class Target(StrEnum):
    """Who a record goes to: the user (one record per event) or each of the user's devices (one per device)."""

    USER = "user"
    DEVICE = "device"


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    #: The channel's stored text (records, templates, provider configurations, metrics labels).
    value: str
    target: Target
    #: The contact field holding the address ("email", "phone"); None: the address is the user id (target user)
    #: or the device (target device, "device:<id>").
    address_field: str | None
    #: Truthy for an address the channel can reach; None: any non-empty address. Failing it skips the record
    #: as `invalid_address`.
    address_check: Callable[[str], object] | None
    #: Template content fields: those a template must fill, and all it may hold.
    required_fields: tuple[str, ...]
    allowed_fields: frozenset[str]
    #: Delivered inside intake's transaction (the in-app inbox row is the delivery); never claimed by workers.
    delivered_at_intake: bool = False
    #: Sent by workers through the tenant's provider chain.
    uses_providers: bool = True
    #: Attempts before a record fails for good; None: the MAX_ATTEMPTS setting. MAX_ATTEMPTS_BY_CHANNEL wins.
    max_attempts: int | None = None
    #: Rendering makes an HTML part from the text body when the content has none (e-mail).
    html_from_body: bool = False

    def __post_init__(self) -> None:
        if self.delivered_at_intake == self.uses_providers:
            raise ValueError(f"channel {self.value!r}: delivered at intake or through providers, exactly one")
        if self.target == Target.DEVICE and not self.uses_providers:
            raise ValueError(f"channel {self.value!r}: a device channel is sent through providers")
        if not set(self.required_fields) <= self.allowed_fields:
            raise ValueError(f"channel {self.value!r}: required fields must be allowed fields")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"channel {self.value!r}: max_attempts must be at least 1")

    def address(self, contact: dict[str, str], user_id: str) -> str:
        """The address of a user-target record (device targets are addressed per device)."""
        return contact.get(self.address_field, "") if self.address_field else user_id


CHANNEL_SPECS: dict[str, ChannelSpec] = {
    spec.value: spec
    for spec in (
        ChannelSpec(Channel.EMAIL.value, Target.USER, "email", None, ("subject", "body"),
                    frozenset({"subject", "body", "html"}), html_from_body=True),
        ChannelSpec(Channel.SMS.value, Target.USER, "phone", E164.fullmatch, ("body",), frozenset({"body"})),
        ChannelSpec(Channel.PUSH.value, Target.DEVICE, None, None, ("title", "body"),
                    frozenset({"title", "body", "action_url", "image_url"})),
        ChannelSpec(Channel.IN_APP.value, Target.USER, None, None, ("title", "body"),
                    frozenset({"title", "body", "action_url"}), delivered_at_intake=True, uses_providers=False),
    )
}


class UnknownChannel(ValueError):
    """A channel no spec declares."""


def channel_spec(channel: str) -> ChannelSpec:
    """The spec of a channel (a Channel member or its text); UnknownChannel names the known ones."""
    try:
        return CHANNEL_SPECS[channel]
    except KeyError:
        raise UnknownChannel(f"unknown channel {str(channel)!r}; known: {', '.join(CHANNEL_SPECS)}") from None


def parse_channel(text: str) -> ChannelSpec:
    """The spec of a channel as a person writes it ("E-mail"? no: "email", "SMS", "in-app", "inapp")."""
    normalised = str(text).strip().lower().replace("-", "_")
    return channel_spec("in_app" if normalised == "inapp" else normalised)


def provider_channels() -> tuple[str, ...]:
    """The channels workers send through providers (claimed, with provider chains)."""
    return tuple(value for value, spec in CHANNEL_SPECS.items() if spec.uses_providers)


def intake_channels() -> tuple[str, ...]:
    """The channels delivered at intake (never claimed by workers, never requeued)."""
    return tuple(value for value, spec in CHANNEL_SPECS.items() if spec.delivered_at_intake)


def register_channel(spec: ChannelSpec, replace: bool = False) -> Channel:
    """Declare a channel (an app's own, a test's): its spec, and its `Channel` value (a runtime pseudo-member
    when it is not one of the enum's). Raises on a channel already declared unless `replace`."""
    if spec.value in CHANNEL_SPECS and not replace:
        raise ValueError(f"channel {spec.value!r} is already declared")
    if spec.delivered_at_intake and spec.value != Channel.IN_APP.value:
        # Intake delivers only the inbox (channels/in_app.py); another such channel's records would stay pending,
        # never claimed, with no error.
        raise ValueError(f"channel {spec.value!r}: only in_app is delivered at intake; use providers")
    channel = Channel.declare(spec.value)
    CHANNEL_SPECS[spec.value] = spec
    return channel


def unregister_channel(value: str) -> None:
    """Undo register_channel for a channel added at runtime (tests)."""
    if any(value == member.value for member in Channel):  # iterating lists the declared members only
        raise ValueError(f"channel {value!r} is one of the enum's own")
    CHANNEL_SPECS.pop(value, None)
    Channel.forget(value)
