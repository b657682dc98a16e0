"""The sender contract. A provider turns one message into one provider call and says what happened:
`Sent(provider_message_id)` or `Failed(kind, code, detail, retry_after)`. It never raises for a delivery
problem, and `detail` never carries message content (it may hold a secret).

The base class owns the sequence; a vendor module fills in small hooks (see http.py for HTTP APIs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar

from notifications.channels.declaration import CredentialField, ProviderOptions
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
    #: Push only: {"platform": "fcm"|"apns"|"webpush", "token": ..., "subscription": {...}, "device_id": ...}
    target: dict[str, Any] = field(default_factory=dict)

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
    #: The address or device is gone for good (unregistered token, invalid number): stop using it.
    invalid_target: bool = False
    ok: ClassVar[bool] = False

    @property
    def transient(self) -> bool:
        return self.kind == FailureKind.TRANSIENT


SendResult = Sent | Failed


def transient(code: str, detail: str = "", retry_after: float | None = None) -> Failed:
    return Failed(FailureKind.TRANSIENT, code, detail[:500], retry_after)


def permanent(code: str, detail: str = "", invalid_target: bool = False) -> Failed:
    return Failed(FailureKind.PERMANENT, code, detail[:500], invalid_target=invalid_target)


class Sender:
    """Base of every provider. Capabilities are class attributes; per-tenant settings arrive as `options`
    (not secret) and `credentials` (decrypted from ProviderConfig)."""

    name: ClassVar[str] = "base"
    channels: ClassVar[frozenset[Channel]] = frozenset()
    #: Push platforms this provider can reach; empty means any target.
    platforms: ClassVar[frozenset[str]] = frozenset()
    #: Most sends in flight at once through one instance.
    max_concurrency: ClassVar[int] = 50
    #: Default send rate (token bucket); None means unlimited. `options["rate_per_second"]` overrides it.
    rate_per_second: ClassVar[float | None] = None
    max_body_length: ClassVar[int | None] = None
    #: The declaration (declaration.py): its non-secret options, and the names of its secrets.
    options_model: ClassVar[type[ProviderOptions]] = ProviderOptions
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()

    def __init__(self, options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> None:
        self.options = dict(options or {})
        self.credentials = dict(credentials or {})

    @property
    def label(self) -> str:
        return self.options.get("label") or self.name

    def supports(self, message: Message) -> bool:
        if message.channel not in self.channels:
            return False
        if self.platforms and message.channel == Channel.PUSH:
            return message.target.get("platform") in self.platforms
        return True

    async def send(self, message: Message) -> SendResult:
        raise NotImplementedError

    async def aclose(self) -> None:
        """Release connections (called when the worker stops or the configuration changes)."""
