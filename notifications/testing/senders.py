"""An in-memory sender with an outbox, and a context manager that installs it for a channel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from notifications.channels.base import Message, Sender, SendResult, Sent
from notifications.channels.registry import set_sender
from notifications.enums import Channel


class InMemorySender(Sender):
    name = "memory"

    def __init__(self, channel: Channel, respond: Callable[[Message], SendResult] | None = None) -> None:
        self.channel = channel  # type: ignore[misc]
        self.outbox: list[Message] = []
        self._respond = respond

    def send(self, message: Message) -> SendResult:
        result = self._respond(message) if self._respond else Sent(f"mem-{len(self.outbox) + 1}")
        if result.ok:
            self.outbox.append(message)
        return result


@contextmanager
def use_sender(sender: Sender) -> Iterator[Sender]:
    set_sender(sender.channel, sender)
    try:
        yield sender
    finally:
        set_sender(sender.channel, None)
