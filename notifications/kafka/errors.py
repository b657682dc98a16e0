from __future__ import annotations

from notifications.errors import NotificationConfigurationError, NotificationError


class KafkaNotConfigured(NotificationConfigurationError):
    pass


class KafkaPublishError(NotificationError):
    """An event was not confirmed by the broker (timeout or delivery error)."""
