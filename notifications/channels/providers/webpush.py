"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291). Its options and
credentials are declared below; pywebpush is imported on first use."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import Field

from notifications.channels.base import Message, SendResult, Sent, permanent
from notifications.channels.declaration import CredentialField, ProviderOptions
from notifications.channels.http import (
    HttpAnswer,
    HttpRequest,
    HttpSender,
    classify_http,
)
from notifications.enums import Channel, PushPlatform

if TYPE_CHECKING:
    from py_vapid import Vapid02


class WebPushOptions(ProviderOptions):
    vapid_subject: str | None = Field(None, pattern=r"^(mailto:|https://)\S+$", description="mailto: or https: contact")
    ttl: int | None = Field(None, ge=0, le=2_419_200, description="Seconds a push service keeps it (at most 28 days)")


class WebPushSender(HttpSender):
    name = "webpush"
    channels = frozenset({Channel.PUSH})
    platforms = frozenset({PushPlatform.WEBPUSH.value})
    options_model = WebPushOptions
    credential_fields = (CredentialField("vapid_private_key", description="PEM or base64url raw"),)

    def __init__(self, options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> None:
        super().__init__(options, credentials)
        self._vapid: Vapid02 | None = None

    def _signer(self) -> Vapid02:
        if self._vapid is None:
            from py_vapid import Vapid02

            key = self.credentials.get("vapid_private_key")
            if not key:
                raise ValueError("webpush provider needs credentials.vapid_private_key")
            self._vapid = Vapid02.from_pem(key.encode()) if "BEGIN" in key else Vapid02.from_string(key)
        return self._vapid

    async def build_request(self, message: Message) -> HttpRequest:
        from pywebpush import WebPusher, WebPushException

        endpoint = message.target.get("token") or ""
        subscription = {"endpoint": endpoint, "keys": message.target.get("subscription", {}).get("keys")
                        or message.target.get("subscription", {})}
        payload = json.dumps(
            {"title": message.fields.get("title", ""), "body": message.body,
             "url": message.fields.get("action_url", ""), "record_id": message.record_id}
        ).encode()
        try:
            encoded = WebPusher(subscription).encode(payload, content_encoding="aes128gcm")
        except WebPushException as err:
            raise ValueError(f"invalid Web Push subscription: {err.message}") from err
        parts = urlsplit(endpoint)
        claims = {"aud": f"{parts.scheme}://{parts.netloc}",
                  "sub": self.options.get("vapid_subject", "mailto:notifications@localhost")}
        headers = {
            **self._signer().sign(claims),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(int(self.options.get("ttl", 86400))),
            "Urgency": "high" if message.data.get("mandatory") else "normal",
        }
        return HttpRequest("POST", endpoint, headers=headers, data=encoded["body"])

    def classify(self, answer: HttpAnswer, message: Message) -> SendResult:
        if answer.status in (200, 201, 202):
            return Sent(answer.headers.get("Location", ""))
        if answer.status in (404, 410):
            return permanent("subscription_gone", f"HTTP {answer.status}", invalid_target=True)
        if answer.status in (401, 403):
            # The subscription was made with another VAPID key: it will never accept ours.
            return permanent("vapid_mismatch", f"HTTP {answer.status}", invalid_target=True)
        if answer.status == 413:
            return permanent("payload_too_large", "HTTP 413")
        return classify_http(answer)
