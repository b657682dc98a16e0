"""E-mail through Django's configured EMAIL_BACKEND: SMTP, the file backend (development) or any
django-anymail ESP. Backends are synchronous: sends run in worker threads, one open connection per thread."""

from __future__ import annotations

import asyncio
import smtplib
from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from pydantic import Field

from notifications.channels.base import (
    Message,
    Sender,
    SendResult,
    Sent,
    permanent,
    transient,
)
from notifications.channels.declaration import ProviderOptions
from notifications.enums import Channel


def build_email(message: Message, from_email: str, connection: Any = None) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message.fields.get("subject", ""),
        body=message.fields.get("body", ""),
        from_email=from_email,
        to=[message.recipient],
        headers={
            "Message-ID": message.data.get("message_id") or make_msgid(domain="notifications.local"),
            "X-Notification-Record": str(message.record_id),
            "X-Notification-Template": message.data.get("template", ""),
        },
        connection=connection,
    )
    if message.fields.get("html"):
        email.attach_alternative(message.fields["html"], "text/html")
    return email


def classify_smtp_error(err: Exception) -> SendResult:
    if isinstance(err, smtplib.SMTPAuthenticationError):
        # Wrong credentials: another provider in the chain (or a fixed configuration) can still deliver it.
        return transient("auth_failed", f"SMTP {err.smtp_code}")
    code = getattr(err, "smtp_code", None) or getattr(err, "code", None)
    if isinstance(err, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in err.recipients.values()]
        code = codes[0] if codes else 550
    if isinstance(code, int):
        if 500 <= code < 600:
            return permanent(f"smtp_{code}", type(err).__name__, invalid_target=code in (550, 551, 553))
        return transient(f"smtp_{code}", type(err).__name__)
    return transient("smtp_error", type(err).__name__)


class DjangoEmailOptions(ProviderOptions):
    backend: str | None = Field(None, min_length=1, description="Backend's dotted path (default EMAIL_BACKEND)")
    from_email: str | None = Field(None, min_length=3, description="Sender address (default DEFAULT_FROM_EMAIL)")


class DjangoEmailSender(Sender):
    name = "django"
    channels = frozenset({Channel.EMAIL})
    options_model = DjangoEmailOptions
    max_concurrency = 4

    def _send_sync(self, message: Message) -> SendResult:
        # Django's backends open and close their own connection per send_messages() call; the pooled `smtp`
        # provider is the volume path.
        message_id = make_msgid(domain="notifications.local")
        connection = get_connection(self.options.get("backend"), fail_silently=False)
        email = build_email(
            message, self.options.get("from_email") or settings.DEFAULT_FROM_EMAIL, connection
        )
        email.extra_headers["Message-ID"] = message_id
        try:
            email.send()
        except (TimeoutError, smtplib.SMTPException, OSError) as err:
            return classify_smtp_error(err)
        return Sent(provider_message_id=message_id)

    async def send(self, message: Message) -> SendResult:
        return await asyncio.to_thread(self._send_sync, message)
