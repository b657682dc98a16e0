"""What live inbox streams cost a web process: resident memory and threads of `manage.py serve --workers 1`
before and after opening N streams (raw sockets, each read until its first `event: count`), caps raised.

    bash scripts/postgres.sh run .venv/bin/python bench/stream_memory.py [--streams 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

SECRET = "stream-memory-secret-0123456789abcdef"


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


async def _open(base: str, count: int) -> list[asyncio.StreamWriter]:
    host, port = base.removeprefix("http://").split(":")
    writers = []

    async def one(n: int) -> asyncio.StreamWriter:
        token = jwt.encode({"sub": f"user-{n % 200}", "tenant_id": "streams", "exp": int(time.time()) + 3600},
                           SECRET, algorithm="HS256")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(f"GET /api/v1/inbox/stream?token={token} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        received = b""
        while b"event: count" not in received:
            chunk = await reader.read(4096)
            if not chunk:
                raise SystemExit(f"stream {n} refused: {received[:200]!r}")
            received += chunk
        return writer

    for start in range(0, count, 100):  # a hundred at a time: the server's accept queue is not the subject
        writers += await asyncio.gather(*(one(n) for n in range(start, min(start + 100, count))))
    return writers


async def _measure(base: str, pid: int, count: int) -> None:
    warm = await _open(base, 1)
    rss_before, threads_before = common.rss_kib(pid), _threads(pid)
    writers = await _open(base, count)
    await asyncio.sleep(1)  # let the server settle after the last stream's first event
    rss_after, threads_after = common.rss_kib(pid), _threads(pid)
    print(f"{count} open streams: resident memory {rss_before / 1024:.1f} -> {rss_after / 1024:.1f} MiB "
          f"(+{(rss_after - rss_before) / 1024:.1f} MiB, {(rss_after - rss_before) / count:.1f} KiB a stream); "
          f"threads {threads_before} -> {threads_after}")
    for writer in writers + warm:
        writer.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=1000)
    args = parser.parse_args()
    database_url = common.fresh_database()
    os.environ["DATABASE_URL"] = database_url
    try:
        subprocess.run([common.PY, str(common.ROOT / "manage.py"), "migrate", "-v0"], check=True, cwd=common.ROOT)
        server, base = common.start_serve(
            "--workers", "1", "--no-worker", "--no-consumer", NOTIFICATIONS_INBOX_JWT_SECRET=SECRET,
            NOTIFICATIONS_INBOX_STREAMS_PER_USER=str(args.streams),
            NOTIFICATIONS_INBOX_STREAMS_PER_TENANT=str(args.streams + 1))
        try:
            asyncio.run(_measure(base, server.pid, args.streams))
        finally:
            server.terminate()
            server.wait(timeout=60)
    finally:
        common.drop_database(database_url)


if __name__ == "__main__":
    main()
