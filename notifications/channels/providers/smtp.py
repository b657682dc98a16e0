"""A pooled asynchronous SMTP provider: connections are opened once and reused, with implicit TLS or STARTTLS
and authentication, commands pipelined where the server allows (smtp_client.py). For volume, where Django's
one-message-at-a-time backends fall short."""

from __future__ import annotations

import logging
import ssl
from email.utils import make_msgid, parseaddr
from functools import lru_cache
from typing import Any

from django.conf import settings
from pydantic import Field

from notifications.channels.base import Message, Sender, SendResult, Sent, transient
from notifications.channels.declaration import CredentialField, ProviderOptions
from notifications.channels.mime import address, compose
from notifications.channels.providers.django_email import classify_smtp_error
from notifications.channels.providers.smtp_client import SmtpConnection, connect
from notifications.enums import Channel
from notifications.errors import SmtpAuthError, SmtpReplyError

logger = logging.getLogger(__name__)


class SmtpOptions(ProviderOptions):
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(25, ge=1, le=65535)
    use_tls: bool = Field(False, description="Implicit TLS (port 465)")
    start_tls: bool | None = Field(None, description="None: upgrade when offered; true: require it; false: never")
    validate_certs: bool = True
    pool_size: int | None = Field(None, ge=1, le=1000, description="Connections kept open")
    from_email: str | None = Field(None, min_length=3, description="Sender address (default DEFAULT_FROM_EMAIL)")


class SmtpSender(Sender):
    """A pooled SMTP client; its options and credentials are declared below."""

    name = "smtp"
    channels = frozenset({Channel.EMAIL})
    options_model = SmtpOptions
    credential_fields = (CredentialField("username", required=False), CredentialField("password", required=False))
    max_concurrency = 10

    def __init__(self, options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> None:
        super().__init__(options, credentials)
        self.max_concurrency = int(self.options.get("pool_size", type(self).max_concurrency))  # type: ignore[misc]
        self._idle: list[SmtpConnection] = []

    async def _connect(self) -> SmtpConnection:
        return await connect(
            self.options.get("host", "127.0.0.1"), int(self.options.get("port", 25)),
            use_tls=bool(self.options.get("use_tls", False)),
            start_tls=self.options.get("start_tls"),  # None: upgrade when the server offers it
            validate_certs=bool(self.options.get("validate_certs", True)),
            timeout=float(self.options.get("timeout", 10)),
            username=self.credentials.get("username", ""), password=self.credentials.get("password", ""),
        )

    async def send(self, message: Message) -> SendResult:
        message_id = make_msgid(domain="notifications.local")
        from_email = self.options.get("from_email") or settings.DEFAULT_FROM_EMAIL
        data = compose(
            from_email=from_email, to=message.recipient, subject=message.fields.get("subject", ""),
            text=message.fields.get("body", ""), html=message.fields.get("html", ""),
            headers={"Message-ID": message_id, "X-Notification-Record": str(message.record_id),
                     "X-Notification-Template": message.data.get("template", "")},
        )
        client = self._idle.pop() if self._idle else None
        try:
            if client is None or not client.is_connected:
                self._discard(client)
                client = None
                client = await self._connect()
            await client.send(_envelope(from_email), _envelope(message.recipient), data)
        except SmtpAuthError as err:
            self._discard(client)
            # The credentials are wrong: another provider (or a fixed configuration) may still deliver it.
            return transient("auth_failed", f"SMTP {err.code}")
        except SmtpReplyError as err:
            self._release(client)  # kept only if it is still in step (is_connected)
            return classify_smtp_error(_Coded(err.code))
        except (OSError, TimeoutError, ssl.SSLError) as err:
            self._discard(client)
            return transient("connection_error", type(err).__name__)
        except BaseException:  # cancelled mid-exchange: the connection's state is unknown
            self._discard(client)
            raise
        self._release(client)
        return Sent(provider_message_id=message_id)

    def _release(self, client: SmtpConnection | None) -> None:
        if client is not None and client.is_connected and len(self._idle) < self.max_concurrency:
            self._idle.append(client)

    def _discard(self, client: SmtpConnection | None) -> None:
        if client is not None:
            client.close()

    async def aclose(self) -> None:
        while self._idle:
            client = self._idle.pop()
            try:
                await client.quit()
            except (SmtpReplyError, OSError, TimeoutError):
                client.close()


@lru_cache(maxsize=4096)
def _envelope(value: str) -> str:
    """The addr-spec of an address header value (`Name <a@b>` -> `a@b`), IDN domains in punycode."""
    if value.isascii() and not any(c in value for c in '<>"(),;: \t'):
        return value
    return parseaddr(address(value))[1]


class _Coded(Exception):
    def __init__(self, code: int) -> None:
        super().__init__(f"SMTP {code}")
        self.smtp_code = code
