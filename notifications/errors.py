"""The app's error tree. Configuration errors stand outside NotificationError so retry code never swallows them."""

from __future__ import annotations

from typing import Any


class NotificationError(Exception):
    """Root of the errors the service raises at run time. Context is kept and printed by __str__."""

    def __init__(self, message: str, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.context = {key: value for key, value in context.items() if value is not None}

    def __str__(self) -> str:
        if not self.context:
            return self.message
        details = ", ".join(f"{key}={value}" for key, value in sorted(self.context.items()))
        return f"{self.message} ({details})"


class NotificationConfigurationError(Exception):
    """A setting or registration is wrong; fix the configuration, retrying will not help."""


class HandlerAlreadyRegistered(NotificationConfigurationError):
    pass


class HandlerNotFound(NotificationError):
    pass


class TemplateRenderError(NotificationError):
    pass


class SendError(NotificationError):
    pass
