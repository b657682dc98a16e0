"""The app's error tree, all of it in this module. Configuration errors (NotificationConfigurationError) stand outside
NotificationError so retry code never swallows them; run-time errors, transport errors (TransportError) and
SecretPurged are NotificationErrors. Older import places (delivery.secrets, channels.http_client,
channels.providers.smtp_client) re-export the same classes."""

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


class ProviderAlreadyRegistered(NotificationConfigurationError):
    """`register_provider(name, ...)` for a name taken already (pass replace=True to swap it)."""


class ProviderNotFound(NotificationConfigurationError):
    """No provider is registered under this name; the message lists the known ones."""


class ProviderConfigInvalid(NotificationConfigurationError):
    """A provider configuration does not fit its provider's declaration (channel, options, credentials). Each
    problem names the bad key, never a credential's value; `problems` holds (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


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


class NotBound(NotificationConfigurationError):
    """A lower layer was asked for something a higher layer provides, before NotificationsConfig.ready() bound
    it (Django is not set up: call django.setup() first)."""


class RegistryNotBound(NotBound):
    """`event_registry.process_event(...)` with no intake bound to the registry."""


class SecretPurged(NotificationError):
    """A sealed secret of an event was purged after its notifications were final: nothing can be sent with it."""


class TransportError(NotificationError):
    """Root of the errors raised by the service's own network clients (HTTP, SMTP). Messages never quote a
    request, an address or a credential."""


class TransportConnectionError(TransportError, ConnectionError):
    """The connection failed, was refused or closed, or the server's answer could not be read. Also an OSError,
    as the standard library's own connection errors are, so `except OSError` still catches it."""


class HttpConnectionError(TransportConnectionError):
    """HTTP: refused, reset, closed early, or a malformed answer."""


class SmtpReplyError(TransportError):
    """The SMTP server said no: its reply code decides permanent or transient. The server's `text` is kept apart
    from the message, as it may quote addresses."""

    def __init__(self, code: int, text: str = "") -> None:
        super().__init__(f"SMTP {code}")
        self.code = code
        self.text = text


class SmtpAuthError(SmtpReplyError):
    """The SMTP server refused the credentials."""


class SmtpSessionRefused(TransportConnectionError):
    """The server would not set a session up (greeting, EHLO or STARTTLS refused): no message's fault."""
