"""Live inbox streams are bounded: a cap per user and per tenant, refused with 429 beyond it, freed when a stream
ends; an open stream costs the server no thread. Against a real `manage.py serve`."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.api.serving import serving
from tests.fixtures import INBOX_SECRET, inbox_token


class RawStream:
    """One SSE stream on a plain socket, read until the server has sent its first unread count."""

    def __init__(self, base: str, token: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=20)
        self.sock.sendall(f"GET /api/v1/inbox/stream?token={token} HTTP/1.1\r\nHost: {host}\r\n"
                          f"Accept: text/event-stream\r\n\r\n".encode())
        received = b""
        while b"event: count" not in received:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            received += chunk
        self.status = int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/1.1 ") else 0

    @classmethod
    def open(cls, base: str, token: str) -> RawStream:
        stream = cls(base, token)
        assert stream.status == 200, stream.status
        return stream

    def close(self) -> None:
        self.sock.close()


def _refusal(base: str, token: str) -> httpx.Response:
    return httpx.get(f"{base}/api/v1/inbox/stream?token={token}", timeout=20)


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def _until_open(base: str, token: str, timeout: float = 30) -> RawStream:
    """A stream, once the server has noticed the closed one (uvicorn reports the disconnect)."""
    deadline = time.monotonic() + timeout
    while (stream := RawStream(base, token)).status == 429:
        stream.close()
        assert time.monotonic() < deadline, "the closed stream's slot was never freed"
        time.sleep(0.05)  # polling the server, not waiting for time
    assert stream.status == 200, stream.status
    return stream


@pytest.mark.slow
def test_streams_are_capped_per_user_and_per_tenant_and_freed_on_disconnect(tmp_path, shared_db):
    env = {"NOTIFICATIONS_INBOX_JWT_SECRET": INBOX_SECRET, "NOTIFICATIONS_INBOX_STREAMS_PER_USER": "2",
           "NOTIFICATIONS_INBOX_STREAMS_PER_TENANT": "3"}
    streams: list[RawStream] = []
    with serving(shared_db, tmp_path / "serve.log", "--workers", "1", "--no-worker", **env) as (base, _):
        try:
            first = RawStream.open(base, inbox_token("acme", "u-1"))
            streams += [first, RawStream.open(base, inbox_token("acme", "u-1"))]
            refused = _refusal(base, inbox_token("acme", "u-1"))
            assert refused.status_code == 429
            assert refused.json() == {"detail": "too many live streams for this user (at most 2); close one first"}

            streams.append(RawStream.open(base, inbox_token("acme", "u-2")))  # the tenant's third
            refused = _refusal(base, inbox_token("acme", "u-3"))
            assert refused.status_code == 429 and "for this tenant (at most 3)" in refused.json()["detail"]
            streams.append(RawStream.open(base, inbox_token("globex", "u-1")))  # another tenant is unaffected

            first.close()  # the client goes away: its slot (user's and tenant's) is freed
            streams.append(_until_open(base, inbox_token("acme", "u-1")))
            assert _refusal(base, inbox_token("acme", "u-3")).status_code == 429  # the tenant is full again
            assert httpx.get(f"{base}/api/v1/inbox/stream", timeout=20).status_code == 401
        finally:
            for stream in streams:
                stream.close()


@pytest.mark.slow
def test_an_open_stream_costs_no_thread(tmp_path, shared_db):
    """30 live streams: the server's thread count stays where it was (Django's handler kept one parked thread
    per open stream)."""
    env = {"NOTIFICATIONS_INBOX_JWT_SECRET": INBOX_SECRET, "NOTIFICATIONS_INBOX_STREAMS_PER_USER": "50"}
    streams: list[RawStream] = []
    with serving(shared_db, tmp_path / "serve.log", "--workers", "1", "--no-worker", **env) as (base, server):
        try:
            streams.append(RawStream.open(base, inbox_token("acme", "u-1")))  # the loop's executor is warm
            before = _threads(server.pid)
            streams += [RawStream.open(base, inbox_token("acme", f"u-{n}")) for n in range(30)]
            assert _threads(server.pid) - before <= 4, (before, _threads(server.pid))
        finally:
            for stream in streams:
                stream.close()
