"""Shared HTTP plumbing for provider APIs: one pooled keep-alive transport per provider instance (transport.py),
timeouts, and the common classification of HTTP answers. A vendor overrides `build_request` and, where its API
says more, `classify`."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

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
from notifications.channels.http_wire import Headers
from notifications.channels.transport import Transport, make_transport
from notifications.errors import HttpConnectionError


@dataclass
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    data: Any = None

    def encoded(self) -> tuple[dict[str, str], bytes]:
        """Headers and body as they go out: `json` as compact JSON, a dict in `data` as a form, bytes as given."""
        headers = dict(self.headers)
        present = {name.lower() for name in headers}
        if self.json is not None:
            body, kind = orjson.dumps(self.json), "application/json"
        elif isinstance(self.data, dict):
            body, kind = urlencode(self.data).encode(), "application/x-www-form-urlencoded"
        elif isinstance(self.data, str):
            body, kind = self.data.encode(), "text/plain; charset=utf-8"
        else:
            body, kind = bytes(self.data or b""), "application/octet-stream"
        if body and "content-type" not in present:
            headers["Content-Type"] = kind
        return headers, body


@dataclass
class HttpAnswer:
    status: int
    headers: Headers  # any-case lookup: answer.headers.get("Retry-After")
    text: str

    def __post_init__(self) -> None:
        if not isinstance(self.headers, Headers):
            self.headers = Headers((name.lower(), value) for name, value in dict(self.headers).items())

    def json(self) -> Any:
        try:
            return orjson.loads(self.text)
        except orjson.JSONDecodeError:
            try:
                return json.loads(self.text)  # what orjson refuses and json reads (integers beyond 64 bits)
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


class HttpSender(Sender):
    timeout_seconds: float = 10.0

    def __init__(self, options: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> None:
        super().__init__(options, credentials)
        self._client: Transport | None = None

    @property
    def client(self) -> Transport:
        if self._client is None:
            # As many connections as sends may be in flight through this provider (options.max_concurrency).
            self._client = make_transport(limit=int(self.options.get("max_concurrency", self.max_concurrency)),
                                          timeout=float(self.options.get("timeout", self.timeout_seconds)))
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

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
            headers, body = request.encoded()
            response = await self.client.request(request.method, request.url, headers, body)
        except ValueError as err:  # a URL or header that cannot be written: the configuration's fault
            return permanent("invalid_request", str(err))
        except TimeoutError:
            return transient("timeout", f"no answer within {self.options.get('timeout', self.timeout_seconds)}s")
        except HttpConnectionError as err:  # its messages are ours: they never quote the request
            return transient("connection_error", str(err))
        except OSError as err:
            return transient("connection_error", type(err).__name__)
        except asyncio.CancelledError:
            raise
        return self.classify(HttpAnswer(response.status, response.headers, response.text), message)


def classify_http(answer: HttpAnswer, message_id: str = "") -> SendResult:
    status = answer.status
    if 200 <= status < 300:
        return Sent(message_id)
    if status == 429:
        return transient("rate_limited", "HTTP 429", parse_retry_after(answer.headers.get("Retry-After")))
    if status in (401, 403):
        return transient("auth_failed", f"HTTP {status}")
    if 300 <= status < 400:  # provider APIs answer where they are asked; a moved webhook needs its new URL
        return permanent(f"http_{status}", f"HTTP {status}: redirects are not followed, configure the final URL")
    if status in (408, 409, 425) or status >= 500:
        return transient(f"http_{status}", f"HTTP {status}", parse_retry_after(answer.headers.get("Retry-After")))
    return permanent(f"http_{status}", f"HTTP {status}")
