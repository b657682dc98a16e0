"""A generic HTTP webhook for SMS (or push): POSTs JSON to your own gateway, signed with HMAC-SHA256 so it can
verify the sender. Header: X-Notifications-Signature: t=<unix time>,v1=<hex hmac of "<t>.<body>">.

options: url, timeout. credentials: secret."""

from __future__ import annotations

import hashlib
import hmac
import time

import orjson
from pydantic import HttpUrl

from notifications.channels.base import Message, SendResult, Sent
from notifications.channels.declaration import CredentialField, ProviderOptions
from notifications.channels.http import (
    HttpAnswer,
    HttpRequest,
    HttpSender,
    classify_http,
)
from notifications.enums import Channel


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300) -> bool:
    """For receivers: check a signature header against the raw body."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


class WebhookOptions(ProviderOptions):
    url: HttpUrl


class WebhookSender(HttpSender):
    name = "webhook"
    channels = frozenset({Channel.SMS, Channel.PUSH})
    options_model = WebhookOptions
    credential_fields = (CredentialField("secret", required=False, description="HMAC-SHA256 signing key"),)

    async def build_request(self, message: Message) -> HttpRequest:
        url = self.options.get("url")
        if not url:
            raise ValueError("webhook provider needs options.url")
        body = orjson.dumps(
            {
                "record_id": message.record_id,
                "tenant_id": message.tenant_id,
                "channel": message.channel.value,
                "to": message.recipient,
                "event_type": message.event_type,
                "content": message.fields,
                **({"target": message.target} if message.target else {}),
            }
        )
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"record-{message.record_id}"}
        secret = self.credentials.get("secret")
        if secret:
            headers["X-Notifications-Signature"] = sign(secret, int(time.time()), body)
        return HttpRequest("POST", url, headers=headers, data=body)

    def classify(self, answer: HttpAnswer, message: Message) -> SendResult:
        result = classify_http(answer)
        if isinstance(result, Sent):
            body = answer.json()
            return Sent(str(body.get("id", "")) if isinstance(body, dict) else "")
        return result
