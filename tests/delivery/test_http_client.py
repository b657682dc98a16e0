"""The provider HTTP client (notifications/channels/http_client.py) against real asyncio servers on loopback:
Content-Length, chunked and close-delimited answers written in odd pieces, keep-alive reuse and its limits,
interim answers, HEAD/204, timeouts, servers that close early or send too much, header injection, TLS with a
self-signed certificate, the connection limit, and a provider (HttpSender) refusing a request with a line break.

Every server here is a bare `asyncio.start_server` on 127.0.0.1 port 0 that writes raw bytes; it numbers its
connections (each answer carries `X-Conn: <n>`) so a test can tell which TCP connection served a request."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import struct
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notifications.channels.base import Failed, FailureKind, Message, Sent
from notifications.channels.http import HttpRequest
from notifications.channels.http_client import (
    MAX_HEAD,
    Headers,
    HttpClient,
    HttpConnectionError,
    HttpResponse,
)
from notifications.channels.providers.webhook import WebhookSender, verify
from notifications.enums import Channel

# --------------------------------------------------------------------------------------------- loopback server


@dataclass
class Request:
    conn: int
    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes


class Conn:
    """One accepted TCP connection, as the handler sees it."""

    def __init__(self, server: Server, number: int, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
        self.server, self.number, self.reader, self.writer = server, number, reader, writer

    async def read_request(self) -> Request | None:
        """The next request on this connection, or None when the client closed it."""
        try:
            head = await self.reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        request_line, *lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, version = request_line.split(" ")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        request = Request(self.number, method, target, version, headers, body)
        self.server.requests.append(request)
        return request

    async def send(self, data: bytes, pieces: Iterable[int] | None = None) -> None:
        """Write `data` at once, or in pieces of the given sizes (the rest in one piece), yielding to the loop
        between pieces so that the client reads each piece separately."""
        if pieces is None:
            self.writer.write(data)
            await self.writer.drain()
            return
        at = 0
        for size in pieces:
            if at >= len(data):
                break
            self.writer.write(data[at: at + size])
            await self.writer.drain()
            # Two loop turns: the loop polls the sockets between them, so the client reads this piece on its
            # own before the next one is written (one turn lets two pieces arrive together).
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            at += size
        if at < len(data):
            self.writer.write(data[at:])
            await self.writer.drain()

    async def drip(self, data: bytes) -> None:
        """Byte by byte."""
        await self.send(data, [1] * len(data))

    async def wait_closed_by_client(self) -> None:
        try:
            while await self.reader.read(65536):
                pass
        except ConnectionError:
            pass

    def close(self) -> None:
        self.writer.close()


Handler = Callable[[Conn], Awaitable[None]]


class Server:
    """`async with Server(handler) as server`: serves `handler(conn)` for each connection on 127.0.0.1."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl_context = ssl_context
        self.accepted = 0
        self.open = 0
        self.max_open = 0
        self.finished = 0  # connections whose handler returned (closed by the client or by the handler)
        self.requests: list[Request] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.errors: list[BaseException] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()
        assert not self.errors, self.errors

    def url(self, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepted += 1
        self.open += 1
        self.max_open = max(self.max_open, self.open)
        try:
            await self.handler(Conn(self, self.accepted, reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        except Exception as err:  # noqa: BLE001 - a broken test server must fail the test, not pass silently
            self.errors.append(err)
        finally:
            self.open -= 1
            self.finished += 1
            writer.close()
            self._tasks.discard(task)

    async def until(self, condition: Callable[[], bool], within: float = 2.0) -> None:
        deadline = time.monotonic() + within
        while not condition():
            assert time.monotonic() < deadline, "condition not met in time"
            await asyncio.sleep(0.005)


def answer(body: bytes = b"ok", *headers: str, status: str = "200 OK", version: str = "HTTP/1.1",
           length: bool = True) -> bytes:
    lines = [f"{version} {status}", *headers]
    if length:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def serve_forever(make: Callable[[Request, Conn], bytes] | None = None) -> Handler:
    """A keep-alive handler: answers every request on the connection with `make(request, conn)` (by default
    200 "ok" naming the connection), whatever the answer says about keep-alive: only the client decides."""

    async def handler(conn: Conn) -> None:
        while (request := await conn.read_request()) is not None:
            data = make(request, conn) if make else answer(f"ok {request.target}".encode(), f"X-Conn: {conn.number}")
            await conn.send(data)

    return handler


async def expect_connection_error(handler: Handler, match: str | None = None, **options: Any) -> Server:
    """Serve `handler`, make one GET with HttpClient(**options) and expect HttpConnectionError."""
    async with Server(handler) as server:
        async with HttpClient(**{"timeout": 2, **options}) as client:
            with pytest.raises(HttpConnectionError, match=match):
                await client.request("GET", server.url())
    return server


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


# ------------------------------------------------------------------------------------------------ 1. lengths


def test_content_length_answer_with_any_case_header_lookup() -> None:
    async def main() -> None:
        def make(request: Request, conn: Conn) -> bytes:
            return answer(b'{"id":"m-1"}', "retry-after: 120", "X-Multi: a", "x-multi: b", status="429 Too Many")

        async with Server(serve_forever(make)) as server:
            async with HttpClient(timeout=2) as client:
                response = await client.request("POST", server.url("/v1/send?x=1"), {"Authorization": "Bearer t"},
                                                b'{"to":"+1"}')
        assert isinstance(response, HttpResponse)
        assert response.status == 429
        assert response.body == b'{"id":"m-1"}'
        assert response.text == '{"id":"m-1"}'
        assert isinstance(response.headers, Headers)
        assert response.headers.get("Retry-After") == "120"
        assert response.headers["RETRY-AFTER"] == "120"
        assert "Retry-After" in response.headers
        assert response.headers.get("X-Missing", "none") == "none"
        assert response.headers["x-multi"] == "a, b"
        # What went out: the request line, Host with the port, the body with its length, a User-Agent.
        (request,) = server.requests
        assert (request.method, request.target, request.version) == ("POST", "/v1/send?x=1", "HTTP/1.1")
        assert request.headers["host"] == f"127.0.0.1:{server.port}"
        assert request.headers["authorization"] == "Bearer t"
        assert request.headers["content-length"] == "11"
        assert request.body == b'{"to":"+1"}'
        assert request.headers["user-agent"]

    run(main())


def test_content_length_body_written_in_odd_pieces() -> None:
    body = bytes(range(256)) * 20

    async def main() -> None:
        async def handler(conn: Conn) -> None:
            while await conn.read_request():
                await conn.send(answer(body, "X-A: 1"), [1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 1000, 1])

        async with Server(handler) as server:
            async with HttpClient(timeout=2) as client:
                first = await client.request("GET", server.url("/a"))
                second = await client.request("GET", server.url("/b"))
        assert first.body == body and second.body == body
        assert server.accepted == 1

    run(main())


# ----------------------------------------------------------------------------------------------- 2. chunked

CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Conn: 1\r\n\r\n"
           b"5\r\nhello\r\n"
           b"1;ext=\"a;b\"\r\n,\r\n"
           b"A; name=value\r\n world 123\r\n"
           b"0010\r\n0123456789abcdef\r\n"
           b"0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n")
CHUNKED_BODY = b"hello, world 1230123456789abcdef"


@pytest.mark.parametrize("split", ["byte_by_byte", "odd_pieces", "whole"])
def test_chunked_answer_with_extensions_and_trailers(split: str) -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            while await conn.read_request():
                if split == "byte_by_byte":
                    await conn.drip(CHUNKED)
                elif split == "odd_pieces":  # cuts between \r and \n, inside sizes, extensions and trailers
                    await conn.send(CHUNKED, [3, 50, 1, 1, 4, 2, 9, 6, 1, 7, 3, 10, 2, 1, 13, 5, 8])
                else:
                    await conn.send(CHUNKED)

        async with Server(handler) as server:
            async with HttpClient(timeout=3) as client:
                first = await client.request("GET", server.url("/a"))
                # The same connection serves a second chunked answer: nothing of the first one is left over.
                second = await client.request("GET", server.url("/b"))
        for response in (first, second):
            assert response.status == 200
            assert response.body == CHUNKED_BODY
            assert response.headers.get("Transfer-Encoding") == "chunked"
        assert server.accepted == 1

    run(main())


# --------------------------------------------------------------------------------------- 3. ended by closing


def test_answer_without_length_ends_when_the_server_closes() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nfirst part, ", [7, 3, 30])
            await asyncio.sleep(0.02)
            await conn.send(b"second part")
            conn.close()

        async with Server(handler) as server:
            async with HttpClient(timeout=2) as client:
                first = await client.request("GET", server.url("/a"))
                second = await client.request("GET", server.url("/b"))  # that connection is gone: a new one
        assert first.status == 200
        assert first.body == b"first part, second part"
        assert first.headers["content-type"] == "text/plain"
        assert second.body == first.body
        assert server.accepted == 2

    run(main())


# ----------------------------------------------------------------------------------------------- 4. keep-alive


def test_sequential_requests_share_one_connection() -> None:
    async def main() -> None:
        async with Server(serve_forever()) as server:
            async with HttpClient(timeout=2) as client:
                answers = [await client.request(method, server.url(f"/{n}"), body=b"x" if method == "POST" else b"")
                           for n, method in enumerate(["GET", "POST", "put", "GET"])]
            await server.until(lambda: server.finished == 1)  # aclose() closed it
        assert [a.body for a in answers] == [b"ok /0", b"ok /1", b"ok /2", b"ok /3"]
        assert {a.headers["x-conn"] for a in answers} == {"1"}
        assert server.accepted == 1
        # A PUT or POST says its length even when empty; a GET without a body does not.
        assert [r.headers.get("content-length") for r in server.requests] == [None, "1", "0", None]

    run(main())


@pytest.mark.parametrize(("version", "connection", "reused"), [
    ("HTTP/1.1", "Connection: close", False),
    ("HTTP/1.1", "Connection: Keep-Alive, Close", False),
    ("HTTP/1.0", "", False),
    ("HTTP/1.0", "Connection: keep-alive", True),
    ("HTTP/1.1", "Connection: keep-alive", True),
    ("HTTP/1.1", "", True),
])
def test_reuse_follows_the_answers_connection_header(version: str, connection: str, reused: bool) -> None:
    async def main() -> None:
        def make(request: Request, conn: Conn) -> bytes:
            # The server keeps the socket open whatever it says: only the client decides whether to reuse.
            return answer(b"ok", f"X-Conn: {conn.number}", *([connection] if connection else []), version=version)

        async with Server(serve_forever(make)) as server:
            async with HttpClient(timeout=2) as client:
                first = await client.request("GET", server.url("/a"))
                second = await client.request("GET", server.url("/b"))
        assert first.body == second.body == b"ok"
        assert first.headers["x-conn"] == "1"
        assert second.headers["x-conn"] == ("1" if reused else "2")
        assert server.accepted == (1 if reused else 2)

    run(main())


# ------------------------------------------------------------------------------------------- 5. 1xx answers


def test_interim_answers_are_skipped() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            while await conn.read_request():
                await conn.send(b"HTTP/1.1 100 Continue\r\n\r\n"
                                b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                                + answer(b"final", "X-Final: yes", status="201 Created"), [5, 20, 3, 40, 2])

        async with Server(handler) as server:
            async with HttpClient(timeout=2) as client:
                response = await client.request("POST", server.url(), body=b"{}")
                again = await client.request("POST", server.url(), body=b"{}")
        assert response.status == 201
        assert response.body == b"final"
        assert response.headers.get("X-Final") == "yes"
        assert "link" not in response.headers  # the interim answer's headers are not the answer's
        assert again.status == 201 and again.body == b"final"
        assert server.accepted == 1

    run(main())


# ----------------------------------------------------------------------------------------- 6. no-body answers


@pytest.mark.parametrize(("method", "head"), [
    ("HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nX-Conn: 1\r\n\r\n"),
    ("HEAD", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ("GET", b"HTTP/1.1 204 No Content\r\n\r\n"),
    ("DELETE", b"HTTP/1.1 204 No Content\r\nContent-Type: application/json\r\n\r\n"),
    ("GET", b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
    ("GET", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
], ids=["head_length", "head_chunked", "get_204", "delete_204", "get_304", "get_length_0"])
def test_answers_without_a_body_complete_and_leave_the_connection_usable(method: str, head: bytes) -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            request = await conn.read_request()
            assert request is not None and request.method == method
            await conn.send(head)  # and nothing more: a client waiting for a body would hang here
            while await conn.read_request():
                await conn.send(answer(b"next"))

        async with Server(handler) as server:
            async with HttpClient(timeout=1) as client:
                started = time.monotonic()
                response = await client.request(method, server.url())
                elapsed = time.monotonic() - started
                following = await client.request("GET", server.url())
        assert response.body == b""
        assert response.status == int(head[9:12])
        assert elapsed < 0.5
        assert following.body == b"next"
        assert server.accepted == 1
        # A GET, HEAD or DELETE without a body carries no Content-Length.
        assert "content-length" not in server.requests[0].headers

    run(main())


# ------------------------------------------------------------------------------------------------- 7. timeout


def test_timeout_when_the_server_never_answers_and_that_connection_is_dropped() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            if conn.number == 1:
                await conn.read_request()
                await conn.wait_closed_by_client()  # never answers; would answer nothing more either
                return
            await serve_forever()(conn)

        async with Server(handler) as server:
            async with HttpClient(timeout=0.3) as client:
                started = time.monotonic()
                with pytest.raises(TimeoutError):
                    await client.request("GET", server.url("/slow"))
                elapsed = time.monotonic() - started
                response = await client.request("GET", server.url("/next"))
                await server.until(lambda: server.finished >= 1)  # the client closed the timed-out connection
        assert 0.25 <= elapsed < 0.8
        assert response.body == b"ok /next"
        assert response.headers["x-conn"] == "2"
        assert server.accepted == 2
        assert [r.conn for r in server.requests] == [1, 2]

    run(main())


def test_timeout_covers_waiting_for_a_free_slot() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.wait_closed_by_client()

        async with Server(handler) as server:
            async with HttpClient(limit=1, timeout=0.2) as client:
                started = time.monotonic()
                results = await asyncio.gather(client.request("GET", server.url()),
                                               client.request("GET", server.url()), return_exceptions=True)
                elapsed = time.monotonic() - started
        assert all(isinstance(r, TimeoutError) for r in results), results
        assert elapsed < 0.6
        assert server.accepted == 1  # the second request never got a slot

    run(main())


# --------------------------------------------------------------------------------- 8. servers closing early


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("partial", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",  # no last chunk
    b"HTTP/1.1 200 OK\r\nContent-Le",
    b"",
], ids=["length_body_short", "chunk_data_short", "no_last_chunk", "head_cut", "nothing"])
def test_server_closing_mid_answer_is_a_connection_error(method: str, partial: bytes) -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(partial, [4, 9, 1])
            conn.close()

        async with Server(handler) as server:
            async with HttpClient(timeout=2) as client:
                with pytest.raises(HttpConnectionError, match="closed before the answer was complete"):
                    await client.request(method, server.url(), body=b"{}" if method == "POST" else b"")
        assert server.accepted == 1  # a fresh connection failing is not retried, even for GET

    run(main())


async def stale_second_request(conn: Conn) -> None:
    """How a stale kept-alive connection is made. Connection 1 answers its first request with keep-alive, then
    reads the second request and closes without answering: the client wrote that request on a connection it
    believed alive and the server closed it unanswered (as a server does when its idle timer fires just as the
    request arrives). A server that simply closed while idle would not exercise the retry: the client notices
    that close (EOF) and discards the connection before reusing it (see the next tests). Connection 2 and later
    answer normally."""
    if conn.number == 1:
        await conn.read_request()
        await conn.send(answer(b"first", "X-Conn: 1", "Connection: keep-alive"))
        await conn.read_request()
        conn.close()
        return
    await serve_forever()(conn)


def test_stale_connection_get_is_retried_once_on_a_fresh_connection() -> None:
    async def main() -> None:
        async with Server(stale_second_request) as server:
            async with HttpClient(timeout=2) as client:
                first = await client.request("GET", server.url("/a"))
                second = await client.request("GET", server.url("/b"))
        assert first.body == b"first"
        assert second.body == b"ok /b"
        assert second.headers["x-conn"] == "2"
        # /b really went out on the stale connection first, then again on a new one.
        assert [(r.conn, r.target) for r in server.requests] == [(1, "/a"), (1, "/b"), (2, "/b")]

    run(main())


def test_stale_connection_post_is_not_retried() -> None:
    async def main() -> None:
        async with Server(stale_second_request) as server:
            async with HttpClient(timeout=2) as client:
                await client.request("POST", server.url("/a"), body=b"1")
                with pytest.raises(HttpConnectionError):
                    await client.request("POST", server.url("/b"), body=b"2")
                third = await client.request("POST", server.url("/c"), body=b"3")  # the dead one is not reused
        assert [(r.conn, r.target) for r in server.requests] == [(1, "/a"), (1, "/b"), (2, "/c")]
        assert third.headers["x-conn"] == "2"

    run(main())


def test_stale_get_retried_only_once() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            if conn.number == 1:
                await stale_second_request(conn)
            else:  # the fresh connection fails too: no second retry
                await conn.read_request()
                conn.close()

        async with Server(handler) as server:
            async with HttpClient(timeout=2) as client:
                await client.request("GET", server.url("/a"))
                with pytest.raises(HttpConnectionError):
                    await client.request("GET", server.url("/b"))
        assert [(r.conn, r.target) for r in server.requests] == [(1, "/a"), (1, "/b"), (2, "/b")]
        assert server.accepted == 2

    run(main())


def test_connection_closed_while_idle_is_not_reused_even_for_post() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(answer(b"ok", f"X-Conn: {conn.number}"))  # keep-alive by default
            if conn.number == 1:
                await asyncio.sleep(0.05)
                conn.close()  # the server's idle timer
                return
            await serve_forever()(conn)

        async with Server(handler) as server:
            async with HttpClient(timeout=2) as client:
                await client.request("POST", server.url("/a"), body=b"1")
                await server.until(lambda: server.finished == 1)
                await asyncio.sleep(0.05)  # lets the client's loop read the end of that connection
                response = await client.request("POST", server.url("/b"), body=b"2")
        assert response.headers["x-conn"] == "2"
        assert [(r.conn, r.target) for r in server.requests] == [(1, "/a"), (2, "/b")]

    run(main())


def test_refused_connection_is_a_connection_error() -> None:
    async def main() -> None:
        async with Server(serve_forever()) as server:
            url = server.url()
        async with HttpClient(timeout=2) as client:  # the server is gone: its port refuses
            with pytest.raises(HttpConnectionError, match="cannot connect"):
                await client.request("GET", url)

    run(main())


@pytest.mark.parametrize("data", [
    b"SSH-2.0-OpenSSH_9.6\r\n\r\n",
    b"HTTP/1.1 abc OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    # A negative size must not be taken for the last chunk (which would end the body early).
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n-5\r\n\r\n",
    # The chunk says 5 bytes but 7 come before the line break.
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!!\r\n0\r\n\r\n",
], ids=["not_http", "bad_status", "header_without_colon", "bad_content_length", "bad_chunk_size",
        "negative_chunk_size", "chunk_longer_than_its_size"])
def test_malformed_answer_is_a_connection_error(data: bytes) -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(data)
            await conn.wait_closed_by_client()

        await expect_connection_error(handler, "malformed", timeout=2)

    run(main())


def test_bytes_beyond_the_answer_make_the_connection_unusable() -> None:
    async def main() -> None:
        def make(request: Request, conn: Conn) -> bytes:
            # Two answers for one request: the second would be taken for the next request's answer.
            return answer(f"{request.target} on {conn.number}".encode()) * 2

        async with Server(serve_forever(make)) as server:
            async with HttpClient(timeout=2) as client:
                first = await client.request("GET", server.url("/a"))
                second = await client.request("GET", server.url("/b"))
        assert first.body == b"/a on 1"
        assert second.body == b"/b on 2"

    run(main())


# ---------------------------------------------------------------------------------------------- 9. size caps


def chunks(size: int, count: int) -> bytes:
    return b"".join(f"{size:x}\r\n".encode() + b"x" * size + b"\r\n" for _ in range(count))


@pytest.mark.parametrize(("name", "data"), [
    ("content_length", b"HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n"),
    ("chunks_growing", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks(300, 4)),
    # One chunk announced far beyond the cap, its first bytes sent: refused at once, not buffered up to
    # the announced size (a server could announce gigabytes).
    ("one_huge_chunk", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40000000\r\n" + b"x" * 500),
    ("close_delimited", b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 1500),
    ("negative_length", b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"),
], ids=lambda value: value if isinstance(value, str) else "")
def test_answer_body_over_max_body_is_refused(name: str, data: bytes) -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(data, [100] * 30)
            await conn.wait_closed_by_client()  # sends no more, keeps the connection open

        async with Server(handler) as server:
            async with HttpClient(timeout=1.5, max_body=1000) as client:
                started = time.monotonic()
                with pytest.raises(HttpConnectionError, match="too large"):
                    await client.request("GET", server.url())
                elapsed = time.monotonic() - started
                await server.until(lambda: server.finished == 1)  # and the client dropped the connection
        assert elapsed < 0.5

    run(main())


@pytest.mark.parametrize("data", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000,
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks(250, 4) + b"0\r\n\r\n",
], ids=["content_length", "chunked"])
def test_answer_body_of_exactly_max_body_is_accepted(data: bytes) -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(data, [100] * 30)
            await conn.wait_closed_by_client()

        async with Server(handler) as server:
            async with HttpClient(timeout=1.5, max_body=1000) as client:
                response = await client.request("GET", server.url())
        assert response.body == b"x" * 1000

    run(main())


@pytest.mark.parametrize("write", ["at_once", "in_pieces", "no_end"])
def test_answer_head_over_64_kib_is_refused(write: str) -> None:
    big = "X-Big: " + "b" * (MAX_HEAD + 100)
    complete = answer(b"ok", big)
    unfinished = b"HTTP/1.1 200 OK\r\n" + big.encode()  # no end of head, ever

    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            if write == "at_once":  # the whole head, and its end, may arrive in a single read
                await conn.send(complete)
            elif write == "in_pieces":
                await conn.send(complete, [8192] * 20)
            else:
                await conn.send(unfinished, [8192] * 20)
            await conn.wait_closed_by_client()

        await expect_connection_error(handler, "head too long", timeout=1.5)

    run(main())


def test_answer_head_just_under_the_cap_is_accepted() -> None:
    async def main() -> None:
        head = answer(b"ok", "X-Big: " + "b" * (MAX_HEAD - 100))
        assert head.index(b"\r\n\r\n") < MAX_HEAD

        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(head)
            await conn.wait_closed_by_client()

        async with Server(handler) as server:
            async with HttpClient(timeout=1.5) as client:
                response = await client.request("GET", server.url())
        assert response.body == b"ok"
        assert len(response.headers["x-big"]) == MAX_HEAD - 100

    run(main())


# -------------------------------------------------------------------------------------- 10. header injection

SECRET = "tok-7f3a9c-SECRET"


@pytest.mark.parametrize("headers", [
    {"Authorization": f"Bearer {SECRET}\r\nX-Injected: 1"},
    {"Authorization": f"Bearer {SECRET}\nX-Injected: 1"},
    {"Authorization": f"Bearer {SECRET}\r"},
    {"Authorization": f"Bearer {SECRET}\0"},
    {"X-Api-Key\r\nX-Injected": SECRET},
    {"X-Api-Key: x": SECRET},
    {"": SECRET},
], ids=["crlf", "lf", "cr", "nul", "crlf_in_name", "colon_in_name", "empty_name"])
def test_line_break_in_a_header_is_refused_without_quoting_the_value(headers: dict[str, str]) -> None:
    async def main() -> None:
        async with Server(serve_forever()) as server:
            async with HttpClient(timeout=2) as client:
                with pytest.raises(ValueError) as caught:
                    await client.request("POST", server.url(), headers, b"{}")
        assert SECRET not in str(caught.value)
        assert SECRET not in repr(caught.value)
        assert server.accepted == 0  # nothing was sent

    run(main())


@pytest.mark.parametrize("tail", [
    f"/hook\r\nX-Injected:{SECRET}",
    f"/hook\nX-Injected:{SECRET}",
    f"/hook?k={SECRET}\r\n",
    f"/hook?k={SECRET}\0",
    f"/hook {SECRET}",
    f"/hook\r\n\r\nGET /{SECRET} HTTP/1.1",
], ids=["crlf_header", "lf_header", "crlf_in_query", "nul_in_query", "space", "second_request"])
def test_line_break_or_space_in_the_url_is_refused(tail: str) -> None:
    async def main() -> None:
        async with Server(serve_forever()) as server:
            async with HttpClient(timeout=2) as client:
                with pytest.raises(ValueError) as caught:
                    await client.request("GET", server.url(tail))
        assert SECRET not in str(caught.value)
        assert server.accepted == 0 and server.requests == []

    run(main())


def test_line_break_in_the_url_host_is_refused() -> None:
    async def main() -> None:
        async with Server(serve_forever()) as server:
            async with HttpClient(timeout=2) as client:
                with pytest.raises(ValueError):
                    await client.request("GET", f"http://127.0.0.1\r\n:{server.port}/")
        assert server.accepted == 0

    run(main())


def test_header_that_is_not_latin_1_is_refused() -> None:
    async def main() -> None:
        client = HttpClient(timeout=2)
        with pytest.raises(ValueError, match="Latin-1"):
            await client.request("GET", "http://127.0.0.1:9/", {"X-Name": "Snowman \u2603"})

    run(main())


# ------------------------------------------------------------------------------------------ 11. bad URLs


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://127.0.0.1/file", "scheme"),
    ("ws://127.0.0.1/socket", "scheme"),
    ("127.0.0.1:8080/path", "scheme"),
    ("/relative/path", "scheme"),
    ("http:///no-host", "no host"),
    ("http://127.0.0.1:99999/", "port"),
    ("http://127.0.0.1:port/", "port"),
    (f"http://user:{SECRET}@127.0.0.1/", "credentials"),
    (f"https://{SECRET}@127.0.0.1/", "credentials"),
    (f"http://:{SECRET}@127.0.0.1/", "credentials"),
])
def test_unsupported_urls_are_refused(url: str, message: str) -> None:
    async def main() -> None:
        client = HttpClient(timeout=2)
        with pytest.raises(ValueError, match=message) as caught:
            await client.request("GET", url)
        assert SECRET not in str(caught.value)

    run(main())


# ----------------------------------------------------------------------------------------------------- 12. TLS


def tls_contexts(tmp_path: Path, with_ip: bool = True) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 (unless `with_ip` is false) and localhost: the server's context,
    and a client context that trusts exactly that certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [*([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))] if with_ip else []),
                 x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    client = ssl.create_default_context(cadata=pem.decode())
    return server, client


def test_https_with_a_trusted_self_signed_certificate(tmp_path: Path) -> None:
    server_context, client_context = tls_contexts(tmp_path)

    async def main() -> None:
        async def handler(conn: Conn) -> None:
            while await conn.read_request():
                await conn.send(answer(b"", f"X-Conn: {conn.number}", "Transfer-Encoding: chunked", length=False)
                                + chunks(5, 2) + b"0\r\n\r\n", [3, 7, 11])

        async with Server(handler, server_context) as server:
            async with HttpClient(timeout=2, ssl_context=client_context) as client:
                first = await client.request("POST", server.url("/a", "https"), body=b"{}")
                second = await client.request("GET", server.url("/b", "https"))
        assert first.status == second.status == 200
        assert first.body == second.body == b"x" * 10
        assert second.headers["x-conn"] == "1"  # kept alive over TLS too
        assert server.accepted == 1
        assert server.requests[0].headers["host"] == f"127.0.0.1:{server.port}"

    run(main())


def test_https_default_client_refuses_an_untrusted_certificate(tmp_path: Path) -> None:
    server_context, _ = tls_contexts(tmp_path)

    async def main() -> None:
        async with Server(serve_forever(), server_context) as server:
            async with HttpClient(timeout=2) as client:  # the system's trusted certificates
                with pytest.raises(HttpConnectionError, match="TLS") as caught:
                    await client.request("GET", server.url("/", "https"))
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
        assert server.requests == []

    run(main())


def test_https_client_refuses_a_certificate_for_another_name(tmp_path: Path) -> None:
    """Trusting the certificate is not enough: it must name the host asked for (here it names only
    localhost, and the client asks for 127.0.0.1)."""
    server_context, client_context = tls_contexts(tmp_path, with_ip=False)

    async def main() -> None:
        async with Server(serve_forever(), server_context) as server:
            async with HttpClient(timeout=2, ssl_context=client_context) as client:
                with pytest.raises(HttpConnectionError, match="TLS"):
                    await client.request("GET", server.url("/", "https"))
        assert server.requests == []

    run(main())


# ----------------------------------------------------------------------------------------------------- 13. limit


def test_limit_caps_connections_and_all_requests_succeed() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            while (request := await conn.read_request()) is not None:
                conn.server.in_flight += 1
                conn.server.max_in_flight = max(conn.server.max_in_flight, conn.server.in_flight)
                await asyncio.sleep(0.02)
                conn.server.in_flight -= 1
                await conn.send(answer(request.target.encode(), f"X-Conn: {conn.number}"))

        async with Server(handler) as server:
            async with HttpClient(limit=2, timeout=3) as client:
                answers = await asyncio.gather(*(client.request("GET", server.url(f"/{n}")) for n in range(10)))
        assert [a.body for a in answers] == [f"/{n}".encode() for n in range(10)]
        assert server.max_open == 2
        assert server.max_in_flight == 2
        assert server.accepted == 2  # the two connections served all ten requests

    run(main())


# ------------------------------------------------------------------------------------ 14. Keep-Alive: timeout


def test_keep_alive_timeout_from_the_answer_is_honoured() -> None:
    """Three servers idle together for 1.2 s: one says `Keep-Alive: timeout=1`, one `timeout=2` (the client keeps
    a second's margin: reusable for 1 s), one says nothing (the client's own 15 s)."""

    async def main() -> None:
        servers = {name: Server(serve_forever(lambda request, conn, header=header: answer(
            b"ok", f"X-Conn: {conn.number}", *([header] if header else []))))
            for name, header in [("one", "Keep-Alive: timeout=1"), ("two", "Keep-Alive: timeout=2, max=100"),
                                 ("none", "")]}
        for server in servers.values():
            await server.__aenter__()
        client = HttpClient(timeout=2)
        try:
            for server in servers.values():
                await client.request("GET", server.url())
            # At once: within the `timeout=2` server's limit, reused; a one-second timeout leaves no margin.
            await client.request("GET", servers["two"].url())
            assert servers["two"].accepted == 1
            await asyncio.sleep(1.2)
            after = {name: await client.request("GET", server.url()) for name, server in servers.items()}
        finally:
            await client.aclose()
            for server in servers.values():
                await server.__aexit__(None, None, None)
        assert after["one"].headers["x-conn"] == "2"
        assert after["two"].headers["x-conn"] == "2"
        assert after["none"].headers["x-conn"] == "1"
        assert {name: server.accepted for name, server in servers.items()} == {"one": 2, "two": 2, "none": 1}

    run(main())


# ------------------------------------------------------------------------------------ 15. through HttpSender


def sms(record_id: int = 7) -> Message:
    return Message(record_id=record_id, tenant_id="acme", channel=Channel.SMS, recipient="+15550100",
                   fields={"body": "Your code is 123456"})


class TokenWebhook(WebhookSender):
    """A provider that sends a credential in a header, as most provider APIs do."""

    async def build_request(self, message: Message) -> HttpRequest:
        request = await super().build_request(message)
        request.headers["Authorization"] = f"Bearer {self.credentials['token']}"
        return request


def test_webhook_sender_posts_signed_json_to_a_loopback_server() -> None:
    async def main() -> None:
        def make(request: Request, conn: Conn) -> bytes:
            return answer(b'{"id":"gw-42"}', "Content-Type: application/json", "Retry-After: 1")

        async with Server(serve_forever(make)) as server:
            sender = TokenWebhook({"url": server.url("/hook")}, {"secret": "whsec", "token": SECRET})
            try:
                result = await sender.send(sms())
            finally:
                await sender.aclose()
        assert result == Sent("gw-42")
        (request,) = server.requests
        assert request.method == "POST" and request.target == "/hook"
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        assert request.headers["content-type"] == "application/json"
        assert verify("whsec", request.headers["x-notifications-signature"], request.body)

    run(main())


@pytest.mark.parametrize(("url_tail", "token"), [
    ("/hook", f"{SECRET}\r\nX-Injected: 1"),
    (f"/hook\r\nX-Injected:{SECRET}", "clean-token"),
    (f"/hook\r\nAuthorization: Bearer {SECRET}", "clean-token"),
], ids=["crlf_in_credential", "crlf_in_url", "crlf_and_space_in_url"])
def test_sender_refuses_a_line_break_as_a_permanent_failure_without_the_secret(url_tail: str, token: str) -> None:
    async def main() -> None:
        async with Server(serve_forever()) as server:
            sender = TokenWebhook({"url": server.url(url_tail)}, {"secret": "whsec", "token": token})
            try:
                result = await sender.send(sms())
            finally:
                await sender.aclose()
        assert isinstance(result, Failed)
        assert result.kind == FailureKind.PERMANENT
        assert result.code == "invalid_request"
        assert SECRET not in result.detail
        assert server.accepted == 0  # nothing went out

    run(main())


# ------------------------------------------------------------------------------------------- review fixes


def test_non_ascii_paths_are_percent_encoded_and_idn_hosts_sent_as_punycode() -> None:
    from notifications.channels.http_client import _split

    origin, target = _split("https://bücher.example/päth/ä?q=ü&x=%20")
    assert origin.host == origin.host_header == "xn--bcher-kva.example"
    assert target == "/p%C3%A4th/%C3%A4?q=%C3%BC&x=%20"  # an encoded URL is not encoded twice

    async def main() -> None:
        async with Server(serve_forever()) as server:
            async with HttpClient(timeout=2) as client:
                response = await client.request("GET", server.url("/naïve?é=1"))
        assert response.status == 200
        assert server.requests[0].target == "/na%C3%AFve?%C3%A9=1"

    run(main())


def test_a_reset_during_a_close_delimited_answer_is_not_a_complete_answer() -> None:
    async def main() -> None:
        async def handler(conn: Conn) -> None:
            await conn.read_request()
            await conn.send(b"HTTP/1.1 200 OK\r\n\r\npart of a body")
            await asyncio.sleep(0.05)
            sock = conn.writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.writer.transport.abort()  # RST (linger 0), not an orderly end

        await expect_connection_error(handler, timeout=2)

    run(main())


def test_a_request_whose_time_ran_out_before_it_was_written_is_never_written() -> None:
    """The budget can go on a slot, a connection or a stale retry; a request past its deadline by then is not
    sent (a provider could act on it, and the retry of the reported failure would send it twice)."""
    from notifications.channels.http_client import _split

    async def main() -> None:
        async with Server(serve_forever()) as server:
            async with HttpClient(timeout=2) as client:
                assert (await client.request("GET", server.url("/first"))).status == 200  # one idle connection
                origin, _ = _split(server.url())
                expired = asyncio.get_running_loop().time() - 0.001
                with pytest.raises(TimeoutError):
                    await client._exchange(origin, b"POST /late HTTP/1.1\r\nHost: x\r\n\r\n", "POST", expired)
                assert (await client.request("GET", server.url("/next"))).status == 200
        assert [r.target for r in server.requests] == ["/first", "/next"]
        assert server.accepted == 1  # the connection taken for the expired request went back to the pool

    run(main())


def test_a_redirect_is_a_permanent_failure_that_says_so_and_is_not_followed() -> None:
    async def main() -> None:
        def make(request: Request, conn: Conn) -> bytes:
            return answer(b"", f"Location: {server.url('/elsewhere')}", status="301 Moved Permanently")

        async with Server(serve_forever(make)) as server:
            sender = TokenWebhook({"url": server.url("/hook")}, {"secret": "whsec", "token": "t"})
            try:
                result = await sender.send(sms())
            finally:
                await sender.aclose()
        assert isinstance(result, Failed) and result.kind == FailureKind.PERMANENT
        assert result.code == "http_301" and "final URL" in result.detail
        assert [r.target for r in server.requests] == ["/hook"]

    run(main())
