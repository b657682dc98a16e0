"""Sender contract (Message -> SendResult), the channel senders and the provider registry."""

from notifications.channels.base import (
    Failed,
    FailureKind,
    Message,
    Sender,
    SendResult,
    Sent,
)
from notifications.channels.declaration import CredentialField, ProviderOptions
from notifications.channels.registry import register_provider, unregister_provider

__all__ = [
    "CredentialField",
    "Failed",
    "FailureKind",
    "Message",
    "ProviderOptions",
    "SendResult",
    "Sender",
    "Sent",
    "register_provider",
    "unregister_provider",
]
