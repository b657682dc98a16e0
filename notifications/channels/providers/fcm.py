"""Push through Firebase Cloud Messaging HTTP v1, authenticated with a service account (OAuth2 JWT bearer).
The credentials are the service account JSON as Google issues it (declared below)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import HttpUrl

from notifications.channels.base import Message, SendResult, Sent, permanent, transient
from notifications.channels.declaration import CredentialField, ProviderOptions
from notifications.channels.http import (
    HttpAnswer,
    HttpRequest,
    HttpSender,
    classify_http,
    parse_retry_after,
)
from notifications.enums import Channel, PushPlatform

SCOPE = "https://www.googleapis.com/auth/firebase.messaging"


class FcmOptions(ProviderOptions):
    base_url: HttpUrl | None = None  # default https://fcm.googleapis.com


_SERVICE_ACCOUNT_EXTRAS = ("type", "private_key_id", "client_id", "auth_uri", "auth_provider_x509_cert_url",
                           "client_x509_cert_url", "universe_domain")


class FcmSender(HttpSender):
    name = "fcm"
    channels = frozenset({Channel.PUSH})
    platforms = frozenset({PushPlatform.FCM.value})
    options_model = FcmOptions
    credential_fields = (
        *(CredentialField(key) for key in ("project_id", "client_email", "private_key", "token_uri")),
        *(CredentialField(key, required=False) for key in _SERVICE_ACCOUNT_EXTRAS),
    )

    def __init__(self, options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> None:
        super().__init__(options, credentials)
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def _access_token(self) -> str:
        import jwt  # with `cryptography`: imported on first use, not when the declaration is read

        async with self._token_lock:
            if self._token and self._token[1] > time.time() + 60:
                return self._token[0]
            account = self.credentials
            for key in ("client_email", "private_key", "token_uri"):
                if not account.get(key):
                    raise ValueError(f"fcm provider needs the service account's {key}")
            now = int(time.time())
            assertion = jwt.encode(
                {"iss": account["client_email"], "scope": SCOPE, "aud": account["token_uri"], "iat": now,
                 "exp": now + 3600},
                account["private_key"],
                algorithm="RS256",
            )
            grant = HttpRequest("POST", account["token_uri"], data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion})
            try:
                response = await self.client.request(grant.method, grant.url, *grant.encoded())
            except (TimeoutError, OSError) as err:
                raise PermissionError(f"token endpoint unreachable: {type(err).__name__}") from err
            status = response.status
            payload = HttpAnswer(status, response.headers, response.text).json()
            if status != 200 or not isinstance(payload, dict) or "access_token" not in payload:
                raise PermissionError(f"token endpoint answered HTTP {status}")
            self._token = (payload["access_token"], time.time() + float(payload.get("expires_in", 3600)))
            return self._token[0]

    async def send(self, message: Message) -> SendResult:
        try:
            return await super().send(message)
        except PermissionError as err:
            return transient("auth_failed", str(err))

    async def build_request(self, message: Message) -> HttpRequest:
        project = self.credentials.get("project_id")
        token = message.target.get("token")
        if not project:
            raise ValueError("fcm provider needs the service account's project_id")
        if not token:
            raise ValueError("push target has no FCM token")
        base = self.options.get("base_url", "https://fcm.googleapis.com").rstrip("/")
        body = {
            "message": {
                "token": token,
                "notification": {"title": message.fields.get("title", ""), "body": message.body},
                "data": {"record_id": str(message.record_id), "event_type": message.event_type,
                         **({"action_url": message.fields["action_url"]} if message.fields.get("action_url") else {})},
            }
        }
        headers = {"Authorization": f"Bearer {await self._access_token()}"}
        return HttpRequest("POST", f"{base}/v1/projects/{project}/messages:send", headers=headers, json=body)

    def classify(self, answer: HttpAnswer, message: Message) -> SendResult:
        body = answer.json()
        body = body if isinstance(body, dict) else {}
        if answer.status == 200:
            return Sent(str(body.get("name", "")))
        error = body.get("error", {}) if isinstance(body.get("error"), dict) else {}
        status = str(error.get("status", ""))
        codes = {d.get("errorCode") for d in error.get("details", []) if isinstance(d, dict)}
        if "UNREGISTERED" in codes:
            return permanent("unregistered", "FCM token is no longer registered", invalid_target=True)
        if answer.status == 404:
            return permanent("not_found", "FCM answered 404 (check the project id)")
        if "SENDER_ID_MISMATCH" in codes:
            return permanent("sender_id_mismatch", "token belongs to another sender", invalid_target=True)
        if answer.status == 400 or status == "INVALID_ARGUMENT" or "INVALID_ARGUMENT" in codes:
            return permanent("invalid_argument", "FCM refused the message as invalid")
        if answer.status == 401:
            self._token = None  # fetch a fresh access token next time
            return transient("auth_failed", "HTTP 401")
        if answer.status == 429 or "QUOTA_EXCEEDED" in codes:
            return transient("quota_exceeded", "HTTP 429", parse_retry_after(answer.headers.get("Retry-After")))
        return classify_http(answer)
