"""The Transport contract (notifications/channels/transport.py), run against every adapter and the real local
servers: the fake provider server (notifications/testing/fake_providers.py) for answers, bare asyncio servers
on loopback for the failures (silence, refusal). Providers built on a transport classify the same whichever
adapter carries their requests."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from django.test import override_settings

from notifications.channels.base import Failed, Message, Sent
from notifications.channels.http_client import HttpClient
from notifications.channels.providers.webhook import WebhookSender
from notifications.channels.transport import (
    TRANSPORTS,
    AiohttpTransport,
    Http2Transport,
    Transport,
    make_transport,
)
from notifications.enums import Channel
from notifications.errors import HttpConnectionError, NotificationConfigurationError
from notifications.testing.fake_providers import FakeProviderServer, Reply

KINDS = sorted(TRANSPORTS)
SELECTABLE = ["aiohttp", "own"]  # what NOTIFICATIONS["HTTP_TRANSPORT"] may name for HTTP/1.1 providers


def run(kind: str, body: Callable[[Transport], Awaitable[Any]], **options: Any) -> Any:
    async def main() -> Any:
        transport = make_transport(kind, **{"timeout": 2.0, **options})
        try:
            return await body(transport)
        finally:
            await transport.aclose()

    return asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_and_its_answer(kind: str, fake: FakeProviderServer) -> None:
    fake.script("webhook", [Reply(201, body={"id": "x-1"}, headers={"Retry-After": "7", "X-Multi": "a"})])

    async def body(transport: Transport) -> Any:
        return await transport.request("POST", f"{fake.url}/webhook", {"Content-Type": "application/json",
                                                                        "X-Api-Key": "k-1"}, b'{"to": "+1"}')

    response = run(kind, body)
    assert response.status == 201
    assert response.headers.get("retry-after") == response.headers["Retry-After"] == "7"
    assert "content-type" in response.headers and response.text == '{"id": "x-1"}'
    arrived = fake.requests["webhook"][-1]
    assert arrived.body == b'{"to": "+1"}' and arrived.headers["X-Api-Key"] == "k-1"


@pytest.mark.parametrize("kind", KINDS)
def test_many_requests_share_few_connections(kind: str, fake: FakeProviderServer) -> None:
    async def body(transport: Transport) -> list[int]:
        return [r.status for r in await asyncio.gather(*(transport.request("POST", f"{fake.url}/webhook", {}, b"{}")
                                                          for _ in range(30)))]

    assert run(kind, body, limit=4) == [200] * 30
    assert len(fake.requests["webhook"]) == 30


@pytest.mark.parametrize("kind", KINDS)
def test_redirects_are_answers_not_followed(kind: str, fake: FakeProviderServer) -> None:
    fake.script("webhook", [Reply(302, headers={"Location": f"{fake.url}/elsewhere"})])

    async def body(transport: Transport) -> Any:
        return await transport.request("POST", f"{fake.url}/webhook", {}, b"{}")

    assert run(kind, body).status == 302
    assert len(fake.requests["webhook"]) == 1


async def _silent_server() -> tuple[asyncio.Server, int]:
    """Accepts and reads, never answers."""
    server = await asyncio.start_server(lambda reader, writer: reader.read(), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


@pytest.mark.parametrize("kind", KINDS)
def test_no_answer_in_time_is_a_timeout(kind: str) -> None:
    async def body(transport: Transport) -> None:
        server, port = await _silent_server()
        async with server:
            with pytest.raises(TimeoutError) as caught:
                await transport.request("POST", f"http://127.0.0.1:{port}/send?token=s3cr3t", {}, b"{}")
        assert "s3cr3t" not in str(caught.value)

    run(kind, body, timeout=0.3)


@pytest.mark.parametrize("kind", KINDS)
def test_refused_connection_is_a_connection_error(kind: str) -> None:
    port = free_port()  # nothing listens on it

    async def body(transport: Transport) -> None:
        with pytest.raises(HttpConnectionError) as caught:
            await transport.request("POST", f"http://127.0.0.1:{port}/hook/s3cr3t", {"Authorization": "k"}, b"")
        assert "s3cr3t" not in str(caught.value)

    run(kind, body)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(("url", "headers"), [
    ("ftp://127.0.0.1/x", {}),
    ("http://user:pw@127.0.0.1/x", {}),
    ("http://127.0.0.1/x\r\nInjected: 1", {}),
    ("http://127.0.0.1/x", {"X-Token": "a\r\nInjected: 1"}),
])
def test_requests_that_cannot_be_written_are_value_errors(kind: str, url: str, headers: dict[str, str]) -> None:
    async def body(transport: Transport) -> None:
        with pytest.raises(ValueError) as caught:
            await transport.request("POST", url, headers, b"")
        assert "pw" not in str(caught.value) and "Injected" not in str(caught.value)

    run(kind, body)


def test_make_transport_reads_the_setting_and_names_the_choices() -> None:
    assert isinstance(make_transport("aiohttp"), AiohttpTransport)
    assert isinstance(make_transport("http2"), Http2Transport)
    with override_settings(NOTIFICATIONS={"HTTP_TRANSPORT": "aiohttp"}):
        assert isinstance(make_transport(), AiohttpTransport)
    with override_settings(NOTIFICATIONS={"HTTP_TRANSPORT": ""}):
        assert isinstance(make_transport(), HttpClient)  # the measured default (bench/README.md)
    with (override_settings(NOTIFICATIONS={"HTTP_TRANSPORT": "curl"}),
          pytest.raises(NotificationConfigurationError, match="aiohttp, http2, own")):
        make_transport()


# --- a provider's classification is the same over every adapter -----------------------------------------------
def _send(kind: str, url: str, timeout: float = 2.0) -> Any:
    sender = WebhookSender({"url": url, "timeout": timeout})
    message = Message(record_id=7, tenant_id="t", channel=Channel.SMS, recipient="+14155550123",
                      fields={"body": "hi"})

    async def main() -> Any:
        try:
            return await sender.send(message)
        finally:
            await sender.aclose()

    with override_settings(NOTIFICATIONS={"HTTP_TRANSPORT": kind}):
        return asyncio.run(main())


@pytest.mark.parametrize("kind", SELECTABLE)
@pytest.mark.parametrize(("reply", "expected"), [
    (Reply(200, body={"id": "wh-9"}), ("sent", "wh-9")),
    (Reply(429, headers={"Retry-After": "12"}), ("transient", "rate_limited", 12.0)),
    (Reply(503, headers={"Retry-After": "3"}), ("transient", "http_503", 3.0)),
    (Reply(500), ("transient", "http_500", None)),
    (Reply(401), ("transient", "auth_failed", None)),
    (Reply(400), ("permanent", "http_400", None)),
    (Reply(301, headers={"Location": "/x"}), ("permanent", "http_301", None)),
])
def test_webhook_classification_is_the_same_over_each_transport(
        kind: str, reply: Reply, expected: tuple[Any, ...], fake: FakeProviderServer) -> None:
    fake.script("webhook", [reply])
    result = _send(kind, f"{fake.url}/webhook")
    if expected[0] == "sent":
        assert isinstance(result, Sent) and result.provider_message_id == expected[1]
    else:
        assert isinstance(result, Failed)
        assert (result.kind.value, result.code, result.retry_after) == expected


@pytest.mark.parametrize("kind", SELECTABLE)
def test_webhook_timeout_refusal_and_bad_url_over_each_transport(kind: str) -> None:
    async def silent() -> Any:
        server, port = await _silent_server()
        sender = WebhookSender({"url": f"http://127.0.0.1:{port}/send", "timeout": 0.3})
        message = Message(record_id=1, tenant_id="t", channel=Channel.SMS, recipient="+1", fields={"body": "x"})
        async with server:
            try:
                return await sender.send(message)
            finally:
                await sender.aclose()

    with override_settings(NOTIFICATIONS={"HTTP_TRANSPORT": kind}):
        timed_out = asyncio.run(silent())
    assert isinstance(timed_out, Failed) and (timed_out.kind.value, timed_out.code) == ("transient", "timeout")
    refused = _send(kind, f"http://127.0.0.1:{free_port()}/send")
    assert isinstance(refused, Failed) and (refused.kind.value, refused.code) == ("transient", "connection_error")
    unwritable = _send(kind, "http://127.0.0.1/x\r\nInjected: 1")
    assert isinstance(unwritable, Failed) and (unwritable.kind.value, unwritable.code) == ("permanent",
                                                                                        "invalid_request")
