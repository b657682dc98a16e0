"""A small asynchronous HTTP/1.1 client for provider APIs: keep-alive connections pooled per origin, one write
per request, answers parsed by a bare asyncio protocol.

Provider calls are small requests with small answers, thousands a second, and aiohttp's general-purpose request
path was a fifth of a send's cost (bench/README.md). This client does what provider APIs need and nothing else:
http and https (certificates verified), Content-Length and chunked answers, answers ended by closing the
connection, 1xx answers skipped, a total timeout per request, a cap on answer size, `Keep-Alive: timeout=N`
honoured. No cookies, redirects, proxies or compression: provider APIs use none of them.

Errors: TimeoutError (no complete answer in time), HttpConnectionError (refused, reset, closed early, malformed
answer; the connection is discarded), ValueError (a request that cannot be written: a line break in a header or
an unsupported URL). Messages never quote header values or bodies: they may carry credentials."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from functools import lru_cache

from notifications.channels.http_wire import (  # noqa: F401 - _split: the tests and transport.py read it here
    _IDEMPOTENT,
    IDLE_SECONDS,
    MAX_BODY,
    MAX_HEAD,
    USER_AGENT,
    Headers,
    HttpResponse,
    _head,
    _Origin,
    _split,
)
from notifications.errors import HttpConnectionError
from notifications.utils.limiter import Limiter


class _Protocol(asyncio.Protocol):
    """One connection. Idle between requests; `start` arms it for one answer."""

    def __init__(self, max_body: int) -> None:
        self.transport: asyncio.Transport | None = None
        self.max_body = max_body
        self.closed = False
        self.idle_since = time.monotonic()
        self.idle_limit = IDLE_SECONDS
        self._buffer = bytearray()
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._head_only = False
        self._status = 0
        self._headers: Headers | None = None
        self._mode = ""  # "length", "chunked", "close" once the head is read
        self._remaining = 0
        self._body = bytearray()
        self._keep_alive = True
        self.received_any = False

    # --- asyncio callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            # Nothing was asked: a server talking out of turn leaves the connection unusable.
            self._close()
            return
        self.received_any = True
        self._buffer += data
        try:
            self._parse()
        except HttpConnectionError as err:
            self._fail(err)

    def eof_received(self) -> bool | None:
        self._lost(None)
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost(exc)

    # --- requests
    def start(self, request: bytes, head_only: bool) -> asyncio.Future[HttpResponse]:
        if self.transport is None:
            raise HttpConnectionError("the connection is not open")
        self._waiter = asyncio.get_running_loop().create_future()
        self._head_only = head_only
        self._headers = None
        self._mode = ""
        self._body = bytearray()
        self.received_any = False
        self.transport.write(request)
        return self._waiter

    def usable(self, now: float) -> bool:
        return not self.closed and self._keep_alive and now - self.idle_since < self.idle_limit

    def time_out(self, message: str) -> None:
        self._fail(TimeoutError(message))

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    # --- internals
    def _close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, err: BaseException) -> None:
        self._close()
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(err)

    def _lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._waiter is None or self._waiter.done():
            return
        if self._headers is not None and self._mode == "close" and exc is None:  # a reset is not an end
            self._finish()
            return
        reason = f": {type(exc).__name__}" if exc else ""
        self._waiter.set_exception(HttpConnectionError(f"connection closed before the answer was complete{reason}"))

    def _finish(self) -> None:
        if self._waiter is None or self._headers is None:  # only called once an answer's head is read
            raise RuntimeError("an HTTP answer finished before it started")
        if not self._keep_alive or self._mode == "close" or self._buffer:  # bytes beyond the answer: out of turn
            self._close()
        else:
            self.idle_since = time.monotonic()
        self._waiter.set_result(HttpResponse(self._status, self._headers, bytes(self._body)))

    def _parse(self) -> None:
        while self._headers is None:
            end = self._buffer.find(b"\r\n\r\n")
            if end > MAX_HEAD or (end < 0 and len(self._buffer) > MAX_HEAD):
                raise HttpConnectionError("answer head too long")
            if end < 0:
                return
            head = bytes(self._buffer[:end]).decode("latin-1")
            del self._buffer[: end + 4]
            self._read_head(head)
        if self._mode == "length":
            take = min(self._remaining, len(self._buffer))
            self._body += self._buffer[:take]
            del self._buffer[:take]
            self._remaining -= take
            if self._remaining == 0:
                self._finish()
        elif self._mode == "chunked":
            self._read_chunks()
        else:  # "close": everything up to the end of the connection
            self._body += self._buffer
            self._buffer.clear()
            if len(self._body) > self.max_body:
                raise HttpConnectionError("answer body too large")

    def _read_head(self, head: str) -> None:
        status_line, *lines = head.split("\r\n")
        version, _, rest = status_line.partition(" ")
        if not version.startswith("HTTP/1."):
            raise HttpConnectionError("malformed answer: not HTTP/1.x")
        try:
            status = int(rest[:3])
        except ValueError:
            raise HttpConnectionError("malformed answer: no status code") from None
        if 100 <= status < 200 and status != 101:
            return  # 100 Continue and friends: the real answer follows
        headers = Headers()
        for line in lines:
            name, colon, value = line.partition(":")
            if not colon:
                raise HttpConnectionError("malformed answer header")
            name, value = name.strip().lower(), value.strip()
            headers[name] = f"{headers[name]}, {value}" if name in headers else value
        self._status, self._headers = status, headers
        connection = headers.get("connection", "").lower()
        self._keep_alive = ("close" not in connection) and (version != "HTTP/1.0" or "keep-alive" in connection)
        if "timeout=" in headers.get("keep-alive", ""):
            try:
                seconds = float(headers["keep-alive"].split("timeout=")[1].split(",")[0])
                self.idle_limit = min(IDLE_SECONDS, max(seconds - 1.0, 0.0))
            except ValueError:
                pass
        if self._head_only or status in (204, 304):
            self._mode, self._remaining = "length", 0
        elif "chunked" in headers.get("transfer-encoding", "").lower():
            self._mode, self._remaining = "chunked", 0
        elif "content-length" in headers:
            try:
                self._remaining = int(headers["content-length"])
            except ValueError:
                raise HttpConnectionError("malformed answer: bad Content-Length") from None
            if self._remaining < 0 or self._remaining > self.max_body:
                raise HttpConnectionError("answer body too large")
            self._mode = "length"
        else:
            self._mode, self._remaining = "close", 0

    def _read_chunks(self) -> None:
        while True:
            if self._remaining > 0:  # inside a chunk's data and its CRLF
                need = self._remaining
                if len(self._buffer) < need:
                    return
                if self._buffer[need - 2 : need] != b"\r\n":
                    raise HttpConnectionError("malformed chunk")
                self._body += self._buffer[: need - 2]  # within max_body: checked with the chunk's size
                del self._buffer[:need]
                self._remaining = 0
                continue
            end = self._buffer.find(b"\r\n")
            if end < 0:
                if len(self._buffer) > 1024:
                    raise HttpConnectionError("malformed chunk size")
                return
            if self._remaining < 0:  # trailers after the last chunk, up to an empty line
                line = self._buffer[:end]
                del self._buffer[: end + 2]
                if not line:
                    self._finish()
                    return
                continue
            try:
                size = int(bytes(self._buffer[:end]).split(b";")[0].strip(), 16)
            except ValueError:
                raise HttpConnectionError("malformed chunk size") from None
            if size < 0:
                raise HttpConnectionError("malformed chunk size")
            if len(self._body) + size > self.max_body:
                raise HttpConnectionError("answer body too large")
            del self._buffer[: end + 2]
            self._remaining = size + 2 if size else -1


@lru_cache(maxsize=1)
def _default_context() -> ssl.SSLContext:
    """The system's trusted certificates, loaded once per process: building a context reads them all."""
    return ssl.create_default_context()


class HttpClient:
    """Connections per origin, at most `limit` requests in flight; an idle connection is reused while it is
    younger than its idle limit. `timeout` bounds a whole request: waiting for a slot, connecting, answer."""

    def __init__(self, *, limit: int = 100, timeout: float = 10.0, ssl_context: ssl.SSLContext | None = None,
                 max_body: int = MAX_BODY) -> None:
        self.limit = max(int(limit), 1)
        self.timeout = float(timeout)
        self.max_body = max_body
        self._ssl = ssl_context
        self._idle: dict[_Origin, deque[_Protocol]] = {}
        self._slots = Limiter(self.limit)
        self._deadlines: dict[_Protocol, float] = {}
        self._sweeper: asyncio.TimerHandle | None = None
        self._open: set[_Protocol] = set()

    def _context(self) -> ssl.SSLContext:
        return self._ssl or _default_context()

    async def request(self, method: str, url: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> HttpResponse:
        origin, target = _split(url)
        method = method.upper()
        data = _head(method, target, origin, headers or {}, len(body)) + body
        # The timeout bounds the whole request. asyncio.timeout() per request (a timer pushed on the loop's
        # heap and cancelled again) was a seventh of the loop's work, so only the rare waits (a free slot, a new
        # connection) use it; the answer's wait is watched by one sweep over requests in flight.
        deadline = asyncio.get_running_loop().time() + self.timeout
        if not self._slots.try_acquire():
            async with asyncio.timeout_at(deadline):
                await self._slots.acquire()
        try:
            return await self._exchange(origin, data, method, deadline)
        finally:
            self._slots.release()

    async def _exchange(self, origin: _Origin, data: bytes, method: str, deadline: float) -> HttpResponse:
        protocol = self._take_idle(origin)
        reused = protocol is not None
        if protocol is None:
            async with asyncio.timeout_at(deadline):
                protocol = await self._connect(origin)
        if asyncio.get_running_loop().time() >= deadline:
            # The budget went on a slot, a connection or a retry: better not sent than sent and reported as
            # failed (the provider could act on it and the retry would send it twice).
            self._keep_idle(origin, protocol)
            raise TimeoutError(f"no slot or connection within {self.timeout:g}s")
        self._deadlines[protocol] = deadline
        if self._sweeper is None:
            self._arm_sweeper()
        try:
            response = await protocol.start(data, method == "HEAD")
        except HttpConnectionError:
            protocol.abort()
            self._open.discard(protocol)
            # A kept-alive connection the server closed just as it was reused: nothing of the request was
            # answered. Sent again only where that is harmless.
            if reused and not protocol.received_any and method in _IDEMPOTENT:
                return await self._exchange(origin, data, method, deadline)
            raise
        except BaseException:  # timeout or cancellation mid-answer: the connection's state is unknown
            protocol.abort()
            self._open.discard(protocol)
            raise
        finally:
            self._deadlines.pop(protocol, None)
        self._keep_idle(origin, protocol)
        return response

    def _keep_idle(self, origin: _Origin, protocol: _Protocol) -> None:
        if protocol.closed:
            self._open.discard(protocol)
            return
        idle = self._idle.setdefault(origin, deque())
        if len(idle) < self.limit:
            idle.append(protocol)
        else:
            protocol.abort()
            self._open.discard(protocol)

    def _arm_sweeper(self) -> None:
        interval = min(max(self.timeout / 4, 0.01), 0.25)
        self._sweeper = asyncio.get_running_loop().call_later(interval, self._sweep)

    def _sweep(self) -> None:
        """Fail the answers whose deadline has passed (at most a quarter of the timeout, or 0.25 s, late)."""
        self._sweeper = None
        now = asyncio.get_running_loop().time()
        for protocol, deadline in list(self._deadlines.items()):
            if now >= deadline:
                del self._deadlines[protocol]
                protocol.time_out(f"no complete answer within {self.timeout:g}s")
        if self._deadlines:
            self._arm_sweeper()

    def _take_idle(self, origin: _Origin) -> _Protocol | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            protocol = idle.pop()  # the most recently used: the least likely to have been closed
            if protocol.usable(now):
                return protocol
            protocol.abort()
            self._open.discard(protocol)
        return None

    async def _connect(self, origin: _Origin) -> _Protocol:
        loop = asyncio.get_running_loop()
        tls = origin.scheme == "https"
        try:
            _, protocol = await loop.create_connection(
                lambda: _Protocol(self.max_body), origin.host, origin.port,
                ssl=self._context() if tls else None, server_hostname=origin.host if tls else None)
        except ssl.SSLError as err:
            raise HttpConnectionError(f"TLS handshake failed: {err.reason or type(err).__name__}") from None
        except OSError as err:
            raise HttpConnectionError(f"cannot connect: {type(err).__name__}") from None
        self._open.add(protocol)
        return protocol

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        self._deadlines.clear()
        for protocol in list(self._open):
            protocol.abort()
        self._open.clear()
        self._idle.clear()
