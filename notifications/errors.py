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


class RenderBudgetExceeded(TemplateRenderError):
    """A template went over its render budget (NOTIFICATIONS["TEMPLATE_BUDGET"]). `limit` names which one:
    "steps", "size", "output", "time" or "depth". The message names the limit, never a context value."""

    def __init__(self, message: str, *, limit: str, **context: Any) -> None:
        super().__init__(message, **context)
        self.limit = limit


class SendError(NotificationError):
    pass
