"""One accessor for the NOTIFICATIONS settings dict."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from notifications.errors import NotificationConfigurationError

_MISSING = object()


def get_setting(name: str, default: Any = _MISSING) -> Any:
    values = getattr(settings, "NOTIFICATIONS", {})
    if name in values:
        return values[name]
    if default is _MISSING:
        raise NotificationConfigurationError(
            f"Missing setting NOTIFICATIONS[{name!r}]: set it in settings.py or its environment variable"
        )
    return default
