"""Sender contract (Message -> SendResult) and the channel senders."""

from notifications.channels.base import (
    Failed,
    FailureKind,
    Message,
    Sender,
    SendResult,
    Sent,
)

__all__ = ["Failed", "FailureKind", "Message", "SendResult", "Sender", "Sent"]
