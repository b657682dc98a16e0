"""An in-memory sender with an outbox, and a context manager that installs it for a channel."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from notifications.channels.base import Message, Sender, SendResult, Sent
from notifications.channels.registry import set_sender
from notifications.enums import Channel


class InMemorySender(Sender):
    """Serves every declared channel, and the one it is made for (a channel added at runtime too)."""

    name = "memory"
    channels = frozenset(Channel)

    def __init__(self, channel: Channel, respond: Callable[[Message], SendResult] | None = None) -> None:
        super().__init__()
        self.channel = channel
        if channel not in self.channels:
            self.channels = self.channels | {channel}  # type: ignore[misc]  # a runtime channel: this instance's
        self.outbox: list[Message] = []
        self.calls: list[Message] = []
        self._respond = respond

    async def send(self, message: Message) -> SendResult:
        self.calls.append(message)
        result = self._respond(message) if self._respond else Sent(f"mem-{len(self.outbox) + 1}")
        if result.ok:
            self.outbox.append(message)
        return result


@contextmanager
def use_sender(sender: InMemorySender) -> Iterator[InMemorySender]:
    set_sender(sender.channel, sender)
    try:
        yield sender
    finally:
        set_sender(sender.channel, None)
