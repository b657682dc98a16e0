"""The seam between providers and HTTP: a `Transport` sends one request and gives back the answer. Providers get
theirs from `make_transport()`, which reads NOTIFICATIONS["HTTP_TRANSPORT"]; APNs asks for "http2".

    own      the project's HTTP/1.1 client (http_client.py): keep-alive pool, one write per request
    aiohttp  aiohttp's ClientSession behind the same contract
    http2    httpx with HTTP/2 (APNs accepts nothing else)

The choice of the default is measured, not assumed: bench/transports.py, recorded in bench/README.md ("House:
transports measured").

Every adapter keeps one contract, so providers classify answers the same whichever is used:
- `timeout` bounds the whole request (waiting for a slot, connecting, the answer) -> TimeoutError;
- refused, reset, closed early, malformed or oversized answers -> HttpConnectionError;
- a request that cannot be written (bad URL, a line break in a header) -> ValueError;
- redirects are not followed; messages never quote URLs, header values or bodies (they may carry credentials)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Protocol

from notifications.channels.http_client import HttpClient
from notifications.channels.http_wire import MAX_BODY, Headers, HttpResponse, _split
from notifications.conf import get_setting
from notifications.errors import HttpConnectionError, NotificationConfigurationError

if TYPE_CHECKING:
    import aiohttp
    import httpx

DEFAULT_TRANSPORT = "own"


class Transport(Protocol):
    """What a provider needs of HTTP. Create it anywhere; it binds to the running loop on first use."""

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> HttpResponse: ...

    async def aclose(self) -> None: ...


def _headers(items: Any) -> Headers:
    """Answer headers by lower-cased name, repeated ones joined by ", " (as the own client does)."""
    headers = Headers()
    for name, value in items:
        name = name.lower()
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        value = str(value)
        if not name or ":" in name or any(c in name + value for c in "\r\n\0"):
            raise ValueError(f"header {name.strip()[:40]!r} contains a line break")
        out[name] = value
    return out


class AiohttpTransport:
    """aiohttp's pooled client; its errors mapped onto the contract above."""

    def __init__(self, *, limit: int = 100, timeout: float = 10.0, max_body: int = MAX_BODY) -> None:
        self.limit, self.timeout, self.max_body = max(int(limit), 1), float(timeout), max_body
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.limit, limit_per_host=self.limit),
                timeout=aiohttp.ClientTimeout(total=self.timeout), auto_decompress=True,
                skip_auto_headers=("User-Agent",), headers={"User-Agent": "django-kafka-notifications"})
        return self._session

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> HttpResponse:
        import aiohttp

        _split(url)  # the same URL rules as the own client: scheme, host, no credentials, no line breaks
        session = self._open()
        try:
            async with session.request(method.upper(), url, headers=_check_headers(headers or {}),
                                       data=body or None, allow_redirects=False) as response:
                if (response.content_length or 0) > self.max_body:
                    raise HttpConnectionError("answer body too large")
                chunks, size = [], 0
                async for chunk in response.content.iter_any():
                    size += len(chunk)
                    if size > self.max_body:
                        raise HttpConnectionError("answer body too large")
                    chunks.append(chunk)
                return HttpResponse(response.status, _headers(response.headers.items()), b"".join(chunks))
        except TimeoutError:
            raise TimeoutError(f"no complete answer within {self.timeout:g}s") from None
        except aiohttp.InvalidURL:
            raise ValueError("URL cannot be parsed") from None
        except aiohttp.ClientError as err:  # refused, reset, malformed: its message may quote the URL
            raise HttpConnectionError(f"connection failed: {type(err).__name__}") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


class Http2Transport:
    """httpx with HTTP/2, for APNs (which speaks nothing else)."""

    def __init__(self, *, limit: int = 100, timeout: float = 10.0, max_body: int = MAX_BODY) -> None:
        self.limit, self.timeout, self.max_body = max(int(limit), 1), float(timeout), max_body
        self._client: httpx.AsyncClient | None = None

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> HttpResponse:
        import httpx

        _split(url)
        if self._client is None:
            self._client = httpx.AsyncClient(http2=True, timeout=self.timeout, follow_redirects=False,
                                             limits=httpx.Limits(max_connections=self.limit))
        try:
            # httpx's timeout is per phase; the contract's is per request
            async with asyncio.timeout(self.timeout):
                response = await self._client.request(method.upper(), url, headers=_check_headers(headers or {}),
                                                      content=body or None)
        except (TimeoutError, httpx.TimeoutException):
            raise TimeoutError(f"no complete answer within {self.timeout:g}s") from None
        except httpx.InvalidURL:
            raise ValueError("URL cannot be parsed") from None
        except httpx.HTTPError as err:
            raise HttpConnectionError(f"connection failed: {type(err).__name__}") from None
        if len(response.content) > self.max_body:
            raise HttpConnectionError("answer body too large")
        return HttpResponse(response.status_code, _headers(response.headers.multi_items()), response.content)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


TRANSPORTS: dict[str, type[Transport]] = {"own": HttpClient, "aiohttp": AiohttpTransport, "http2": Http2Transport}


def make_transport(kind: str | None = None, *, limit: int = 100, timeout: float = 10.0) -> Transport:
    """The transport `kind` names, or NOTIFICATIONS["HTTP_TRANSPORT"] (default "own")."""
    kind = kind or get_setting("HTTP_TRANSPORT", "") or DEFAULT_TRANSPORT
    try:
        cls = TRANSPORTS[kind]
    except KeyError:
        raise NotificationConfigurationError(
            f"NOTIFICATIONS['HTTP_TRANSPORT'] is {kind!r}: one of {', '.join(sorted(TRANSPORTS))}") from None
    return cls(limit=limit, timeout=timeout)  # type: ignore[call-arg]
