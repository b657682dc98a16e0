"""A local HTTP server that speaks the provider APIs the service calls, including their errors: Twilio's
Messages API, Google's OAuth2 token endpoint and FCM HTTP v1, Web Push endpoints, and a generic webhook.
For tests of your own deployment too: point a tenant's provider `base_url`/`token_uri`/endpoint at it.

    fake = FakeProviderServer().start()
    fake.script("twilio", [Reply(429, headers={"Retry-After": "1"}), Reply(201)])
    ...
    fake.requests["twilio"]   # what arrived, in order
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a timeout when longer than the client's)


@dataclass
class Received:
    route: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.body.decode()))


TWILIO_ERRORS = {
    400: {"code": 21211, "message": "The 'To' number is not a valid phone number.", "status": 400},
    401: {"code": 20003, "message": "Authenticate", "status": 401},
    404: {"code": 20404, "message": "The requested resource was not found", "status": 404},
    429: {"code": 20429, "message": "Too Many Requests", "status": 429},
    500: {"code": 20500, "message": "Internal Server Error", "status": 500},
}
FCM_ERRORS = {
    400: ("INVALID_ARGUMENT", "INVALID_ARGUMENT"),
    401: ("UNAUTHENTICATED", "THIRD_PARTY_AUTH_ERROR"),
    404: ("NOT_FOUND", "UNREGISTERED"),
    429: ("RESOURCE_EXHAUSTED", "QUOTA_EXCEEDED"),
    500: ("INTERNAL", "INTERNAL"),
    503: ("UNAVAILABLE", "UNAVAILABLE"),
}


class FakeProviderServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host, self.port = host, port
        self.requests: dict[str, list[Received]] = defaultdict(list)
        self._scripts: dict[str, deque[Reply]] = defaultdict(deque)
        self._ids = itertools.count(1)
        self.twilio_credentials: tuple[str, str] = ("AC" + "0" * 32, "twilio-auth-token")
        self.fcm_public_key: str | None = None
        self.fcm_access_token = "fake-fcm-access-token"  # noqa: S105 - the fake's own token, not a credential
        self.apns_public_key: str | None = None
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-providers", daemon=True)

    # --- control ----------------------------------------------------------------------------------------------
    def start(self) -> FakeProviderServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._twilio)
        app.router.add_post("/oauth2/token", self._oauth_token)
        app.router.add_post("/v1/projects/{project}/messages:send", self._fcm)
        app.router.add_post("/push/{subscription}", self._webpush)
        app.router.add_post("/webhook", self._webhook)
        app.router.add_post("/3/device/{token}", self._apns)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def script(self, route: str, replies: list[Reply]) -> None:
        """Answer the next requests on `route` with these replies, in order; then the route's success."""
        self._scripts[route].extend(replies)

    def _next(self, route: str) -> Reply | None:
        return self._scripts[route].popleft() if self._scripts[route] else None

    async def _record(self, route: str, request: web.Request) -> Received:
        received = Received(route, request.path, dict(request.headers), await request.read())
        self.requests[route].append(received)
        return received

    # --- Twilio ---------------------------------------------------------------------------------------------
    async def _twilio(self, request: web.Request) -> web.Response:
        await self._record("twilio", request)
        expected = "Basic " + base64.b64encode(":".join(self.twilio_credentials).encode()).decode()
        if request.headers.get("Authorization") != expected:
            return web.json_response(TWILIO_ERRORS[401], status=401)
        reply = self._next("twilio")
        if reply is None:
            return web.json_response({"sid": f"SM{next(self._ids):032d}", "status": "queued"}, status=201)
        await asyncio.sleep(reply.delay)
        body = reply.body if reply.body is not None else TWILIO_ERRORS.get(reply.status, {"sid": "SMx"})
        return web.json_response(body, status=reply.status, headers=reply.headers)

    # --- Google OAuth2 and FCM HTTP v1 ---------------------------------------------------------------------
    async def _oauth_token(self, request: web.Request) -> web.Response:
        received = await self._record("oauth", request)
        form = received.form()
        if self.fcm_public_key is None:  # no service account set up: every assertion is refused
            return web.json_response({"error": "invalid_grant"}, status=400)
        try:
            claims = jwt.decode(form.get("assertion", ""), self.fcm_public_key, algorithms=["RS256"],
                                audience=f"{self.url}/oauth2/token")
        except jwt.PyJWTError:
            return web.json_response({"error": "invalid_grant"}, status=400)
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" or "firebase" not in claims["scope"]:
            return web.json_response({"error": "invalid_request"}, status=400)
        return web.json_response({"access_token": self.fcm_access_token, "expires_in": 3599, "token_type": "Bearer"})

    async def _fcm(self, request: web.Request) -> web.Response:
        await self._record("fcm", request)
        if request.headers.get("Authorization") != f"Bearer {self.fcm_access_token}":
            return self._fcm_error(401)
        reply = self._next("fcm")
        if reply is None:
            project = request.match_info["project"]
            return web.json_response({"name": f"projects/{project}/messages/{next(self._ids)}"})
        await asyncio.sleep(reply.delay)
        if reply.status == 200:
            return web.json_response({"name": "projects/p/messages/1"})
        return self._fcm_error(reply.status, reply.headers)

    @staticmethod
    def _fcm_error(status: int, headers: dict[str, str] | None = None) -> web.Response:
        grpc, code = FCM_ERRORS.get(status, ("UNKNOWN", "UNSPECIFIED_ERROR"))
        body = {"error": {"code": status, "message": code, "status": grpc, "details": [
            {"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]}}
        return web.json_response(body, status=status, headers=headers or {})

    # --- Web Push -------------------------------------------------------------------------------------------
    async def _webpush(self, request: web.Request) -> web.Response:
        await self._record("webpush", request)
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("vapid t=") or request.headers.get("Content-Encoding") != "aes128gcm":
            return web.Response(status=400, text="missing VAPID authorization or aes128gcm encoding")
        reply = self._next("webpush")
        if reply is None:
            return web.Response(status=201, headers={"Location": f"{self.url}/messages/{next(self._ids)}"})
        await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, headers=reply.headers)

    # --- APNs (token-based authentication) ----------------------------------------------------------------
    async def _apns(self, request: web.Request) -> web.Response:
        await self._record("apns", request)
        auth = request.headers.get("authorization", "")
        if self.apns_public_key is None:  # no signing key set up: every token is refused
            return web.json_response({"reason": "InvalidProviderToken"}, status=403)
        try:
            jwt.decode(auth.removeprefix("bearer "), self.apns_public_key, algorithms=["ES256"])
        except jwt.PyJWTError:
            return web.json_response({"reason": "InvalidProviderToken"}, status=403)
        if not request.headers.get("apns-topic"):
            return web.json_response({"reason": "MissingTopic"}, status=400)
        reply = self._next("apns")
        if reply is None:
            return web.Response(status=200, headers={"apns-id": f"apns-{next(self._ids)}"})
        await asyncio.sleep(reply.delay)
        return web.json_response(reply.body or {}, status=reply.status, headers=reply.headers)

    # --- generic webhook ------------------------------------------------------------------------------------
    async def _webhook(self, request: web.Request) -> web.Response:
        await self._record("webhook", request)
        reply = self._next("webhook")
        if reply is None:
            return web.json_response({"id": f"wh-{next(self._ids)}"})
        await asyncio.sleep(reply.delay)
        return web.json_response(reply.body or {}, status=reply.status, headers=reply.headers)
