"""The sender contract. A sender turns messages into provider calls and says, per message, what happened:
`Sent(provider_message_id)` or `Failed(kind, code, detail, retry_after)`. It never raises for a delivery problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from notifications.enums import Channel


@dataclass(frozen=True)
class Message:
    record_id: int
    tenant_id: str
    channel: Channel
    recipient: str
    fields: dict[str, str]
    event_type: str = ""
    user_id: str = ""
    data: dict[str, str] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return self.fields.get("subject") or self.fields.get("title", "")

    @property
    def body(self) -> str:
        return self.fields.get("body", "")


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


@dataclass(frozen=True)
class Sent:
    provider_message_id: str = ""
    ok: ClassVar[bool] = True


@dataclass(frozen=True)
class Failed:
    kind: FailureKind
    code: str
    detail: str = ""
    retry_after: float | None = None
    ok: ClassVar[bool] = False


SendResult = Sent | Failed


class Sender:
    """Base sender. Subclasses set `name` and `channel` and implement `send`, or `send_batch` when the
    provider takes several messages per call (an SMTP connection, say)."""

    name: ClassVar[str] = "base"
    channel: ClassVar[Channel]

    def send(self, message: Message) -> SendResult:
        raise NotImplementedError

    def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        return [self.send(message) for message in messages]
