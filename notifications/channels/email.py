"""E-mail through Django's configured EMAIL_BACKEND: SMTP, the file backend (development) or any
django-anymail ESP."""

from __future__ import annotations

import logging
import smtplib
import socket
from collections.abc import Sequence
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from notifications.channels.base import Failed, FailureKind, Message, Sender, SendResult, Sent
from notifications.enums import Channel

logger = logging.getLogger(__name__)


class DjangoEmailSender(Sender):
    name = "django"
    channel = Channel.EMAIL

    def send_batch(self, messages: Sequence[Message]) -> list[SendResult]:
        results: list[SendResult] = []
        connection = get_connection(fail_silently=False)
        try:
            connection.open()
        except (smtplib.SMTPException, OSError) as err:
            return [Failed(FailureKind.TRANSIENT, "connection_failed", type(err).__name__) for _ in messages]
        try:
            for message in messages:
                results.append(self._send_one(connection, message))
        finally:
            try:
                connection.close()
            except (smtplib.SMTPException, OSError):
                logger.debug("e-mail connection close failed", exc_info=True)
        return results

    def _send_one(self, connection: object, message: Message) -> SendResult:
        message_id = make_msgid(domain="notifications.local")
        email = EmailMultiAlternatives(
            subject=message.fields.get("subject", ""),
            body=message.fields.get("body", ""),
            from_email=message.data.get("from_email") or settings.DEFAULT_FROM_EMAIL,
            to=[message.recipient],
            headers={
                "Message-ID": message_id,
                "X-Notification-Record": str(message.record_id),
                "X-Notification-Template": message.data.get("template", ""),
            },
            connection=connection,
        )
        if message.fields.get("html"):
            email.attach_alternative(message.fields["html"], "text/html")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as err:
            return Failed(FailureKind.PERMANENT, "recipient_refused", _smtp_detail(err))
        except smtplib.SMTPResponseException as err:
            kind = FailureKind.PERMANENT if 500 <= err.smtp_code < 600 else FailureKind.TRANSIENT
            return Failed(kind, f"smtp_{err.smtp_code}", _smtp_detail(err))
        except (smtplib.SMTPException, socket.timeout, OSError) as err:
            return Failed(FailureKind.TRANSIENT, "smtp_error", type(err).__name__)
        return Sent(provider_message_id=message_id)


def _smtp_detail(err: Exception) -> str:
    # The server's words about the recipient, not the message (which may hold a secret).
    return f"{type(err).__name__}: {getattr(err, 'smtp_code', '')}".strip()
