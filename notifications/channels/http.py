"""Shared HTTP plumbing for provider APIs: one pooled aiohttp session per provider instance, timeouts, and the
common classification of HTTP answers. A vendor overrides `build_request` and, where its API says more,
`classify`."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp
import orjson
from django.utils import timezone

from notifications.channels.base import (
    Message,
    Sender,
    SendResult,
    Sent,
    permanent,
    transient,
)


@dataclass
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: Any = None


@dataclass
class HttpAnswer:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return {}


MAX_RETRY_AFTER = 24 * 3600.0


def parse_retry_after(value: str | None) -> float | None:
    """Seconds or an HTTP date, clamped to [0, 24 h]: a provider's header must not break scheduling."""
    if not value:
        return None
    seconds: float | None = None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - timezone.now()).total_seconds()
        except (TypeError, ValueError, OverflowError):
            return None
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


class HttpSender(Sender):
    timeout_seconds: float = 10.0

    def __init__(self, options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> None:
        super().__init__(options, credentials)
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(total=float(self.options.get("timeout", self.timeout_seconds)))
            # As many connections as sends may be in flight through this provider (options.max_concurrency).
            limit = int(self.options.get("max_concurrency", self.max_concurrency))
            connector = aiohttp.TCPConnector(limit=limit, ttl_dns_cache=300)
            # Provider APIs authenticate by header, never by cookie: no cookie jar to update on every answer.
            self._session = aiohttp.ClientSession(timeout=timeout, connector=connector,
                                                  cookie_jar=aiohttp.DummyCookieJar(), json_serialize=_json)
        return self._session

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def build_request(self, message: Message) -> HttpRequest:
        raise NotImplementedError

    def classify(self, answer: HttpAnswer, message: Message) -> SendResult:
        return classify_http(answer)

    async def send(self, message: Message) -> SendResult:
        try:
            request = await self.build_request(message)
        except ValueError as err:
            return permanent("invalid_message", str(err))
        try:
            async with self.session.request(
                request.method, request.url, headers=request.headers, json=request.json, data=request.data,
            ) as response:
                answer = HttpAnswer(response.status, dict(response.headers), await response.text())
        except TimeoutError:
            return transient("timeout", f"no answer within {self.options.get('timeout', self.timeout_seconds)}s")
        except (aiohttp.ClientError, OSError) as err:
            return transient("connection_error", type(err).__name__)
        except asyncio.CancelledError:
            raise
        return self.classify(answer, message)


def classify_http(answer: HttpAnswer, message_id: str = "") -> SendResult:
    status = answer.status
    if 200 <= status < 300:
        return Sent(message_id)
    if status == 429:
        return transient("rate_limited", "HTTP 429", parse_retry_after(answer.headers.get("Retry-After")))
    if status in (401, 403):
        return transient("auth_failed", f"HTTP {status}")
    if status in (408, 409, 425) or status >= 500:
        return transient(f"http_{status}", f"HTTP {status}", parse_retry_after(answer.headers.get("Retry-After")))
    return permanent(f"http_{status}", f"HTTP {status}")
