"""Push to Apple devices through APNs with token-based authentication (ES256 JWT), over HTTP/2 (the "http2"
transport, httpx). Its options and credentials are declared below; httpx and PyJWT are imported on first use."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import orjson
from pydantic import Field, HttpUrl

from notifications.channels.base import (
    Message,
    Sender,
    SendResult,
    Sent,
    permanent,
    transient,
)
from notifications.channels.declaration import CredentialField, ProviderOptions
from notifications.channels.http import HttpAnswer, classify_http, parse_retry_after
from notifications.channels.transport import Transport, make_transport
from notifications.enums import Channel, PushPlatform
from notifications.errors import HttpConnectionError

_GONE = {"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"}


class ApnsOptions(ProviderOptions):
    topic: str = Field(min_length=1, max_length=255, description="The app's bundle id")
    base_url: HttpUrl | None = None  # default https://api.push.apple.com; sandbox: https://api.sandbox.push.apple.com
    push_type: Literal["alert", "background", "location", "voip", "complication", "fileprovider", "mdm",
                       "liveactivity", "pushtotalk"] | None = None


class ApnsSender(Sender):
    name = "apns"
    channels = frozenset({Channel.PUSH})
    platforms = frozenset({PushPlatform.APNS.value})
    options_model = ApnsOptions
    credential_fields = (CredentialField("team_id"), CredentialField("key_id"),
                         CredentialField("private_key", description="the .p8 PEM"))

    def __init__(self, options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> None:
        super().__init__(options, credentials)
        self._client: Transport | None = None
        self._jwt: tuple[str, float] | None = None

    def _token(self) -> str:
        # Apple wants the provider token refreshed at most every 20 and at least every 60 minutes.
        if self._jwt and self._jwt[1] > time.time():
            return self._jwt[0]
        for key in ("team_id", "key_id", "private_key"):
            if not self.credentials.get(key):
                raise ValueError(f"apns provider needs credentials.{key}")
        import jwt  # imported on first use, not when the declaration is read

        token = jwt.encode({"iss": self.credentials["team_id"], "iat": int(time.time())},
                           self.credentials["private_key"], algorithm="ES256",
                           headers={"kid": self.credentials["key_id"]})
        self._jwt = (token, time.time() + 40 * 60)
        return token

    @property
    def client(self) -> Transport:
        if self._client is None:
            self._client = make_transport("http2", limit=int(self.options.get("max_concurrency", self.max_concurrency)),
                                          timeout=float(self.options.get("timeout", 10)))
        return self._client

    async def send(self, message: Message) -> SendResult:
        device_token = message.target.get("token")
        if not device_token:
            return permanent("invalid_message", "push target has no APNs token")
        try:
            token = self._token()
        except ValueError as err:
            return permanent("invalid_configuration", str(err))
        base = self.options.get("base_url", "https://api.push.apple.com").rstrip("/")
        headers = {
            "authorization": f"bearer {token}",
            "apns-topic": self.options.get("topic", ""),
            "apns-push-type": self.options.get("push_type", "alert"),
            "apns-priority": "10",
        }
        body = {"aps": {"alert": {"title": message.fields.get("title", ""), "body": message.body}, "sound": "default"},
                "record_id": message.record_id, "event_type": message.event_type}
        headers["content-type"] = "application/json"
        try:
            response = await self.client.request("POST", f"{base}/3/device/{device_token}", headers,
                                                 orjson.dumps(body))
        except ValueError as err:  # a base_url or token that cannot be written: the configuration's fault
            return permanent("invalid_request", str(err))
        except TimeoutError:
            return transient("timeout", "APNs did not answer in time")
        except HttpConnectionError as err:  # its messages are ours: they never quote the request
            return transient("connection_error", str(err))
        except asyncio.CancelledError:
            raise
        answer = HttpAnswer(response.status, response.headers, response.text)
        return self.classify(answer)

    def classify(self, answer: HttpAnswer) -> SendResult:
        if answer.status == 200:
            return Sent(answer.headers.get("apns-id", ""))
        reason = str((answer.json() or {}).get("reason", "")) if isinstance(answer.json(), dict) else ""
        if answer.status == 410 or reason in _GONE:
            return permanent("unregistered", reason or "HTTP 410", invalid_target=True)
        if answer.status == 403 and reason in {"ExpiredProviderToken", "InvalidProviderToken"}:
            self._jwt = None
            return transient("auth_failed", reason)
        if answer.status == 429:
            return transient("rate_limited", reason or "HTTP 429", parse_retry_after(answer.headers.get("Retry-After")))
        if answer.status == 400:
            return permanent(f"apns_{reason or 400}", "APNs refused the request")
        return classify_http(answer)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
