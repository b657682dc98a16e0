"""Which sender serves each channel. The delivery issue replaces this with per-tenant provider chains."""

from __future__ import annotations

from notifications.channels.base import Sender
from notifications.channels.email import DjangoEmailSender
from notifications.channels.providers.log import LogSender
from notifications.enums import Channel

_senders: dict[Channel, Sender] = {}


def default_senders() -> dict[Channel, Sender]:
    return {
        Channel.EMAIL: DjangoEmailSender(),
        Channel.SMS: LogSender(Channel.SMS),
        Channel.PUSH: LogSender(Channel.PUSH),
    }


def get_sender(channel: Channel) -> Sender:
    if not _senders:
        _senders.update(default_senders())
    return _senders[channel]


def set_sender(channel: Channel, sender: Sender | None) -> None:
    """Swap a channel's sender (tests, embedding). None restores the default."""
    if not _senders:
        _senders.update(default_senders())
    _senders[channel] = sender if sender is not None else default_senders()[channel]
