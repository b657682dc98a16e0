"""The API under concurrency: pooled, bounded database connections; an exhausted pool answers 503 with
Retry-After, never 500; `serve` runs several web processes with the worker and consumer once."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from django.core.management.base import CommandError
from django.db import connection

from notifications.management.commands.serve import web_workers
from notifications.overload import DETAIL
from notifications.testing import make_event
from tests.api.serving import api_key, serving
from tests.fixtures import INBOX_SECRET, inbox_token


def _event(n: int, prefix: str = "c") -> dict[str, Any]:
    return make_event("content.liked", "acme", user_id=f"u-{n}") | {"event_id": f"{prefix}-{n}"}


def _until(check: Any, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)  # polling a condition, not waiting for time


def test_serve_defaults_to_one_web_process_per_core_and_one_on_sqlite():
    import os

    cores = len(os.sched_getaffinity(0))
    assert web_workers(None) == (1 if connection.vendor == "sqlite" else cores)
    assert web_workers(3) == 3
    with pytest.raises(CommandError):
        web_workers(-1)


@pytest.mark.postgres
def test_an_exhausted_pool_answers_503_with_retry_after_never_500(tmp_path, shared_db):
    """One pooled connection, held by a request stuck on a lock: the next API call, page and stream wait the
    pool's timeout and get 503 with Retry-After; the stuck request then completes."""
    import psycopg

    key = api_key(shared_db, "acme")
    headers = {"X-API-Key": key}
    with serving(shared_db, tmp_path / "serve.log", "--workers", "1", "--no-worker",
                 DATABASE_POOL_MIN_SIZE="1", DATABASE_POOL_MAX_SIZE="1", DATABASE_POOL_TIMEOUT="0.5",
                 NOTIFICATIONS_INBOX_JWT_SECRET=INBOX_SECRET) as (base, _):
        with psycopg.connect(f"dbname={shared_db.name}") as locker, ThreadPoolExecutor(1) as pool:
            locker.execute("LOCK TABLE notifications_apikey IN ACCESS EXCLUSIVE MODE")
            held = pool.submit(httpx.post, f"{base}/api/v1/events", json=_event(1), headers=headers, timeout=60)
            _until(lambda: shared_db.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()") >= 1)
            busy = httpx.post(f"{base}/api/v1/events", json=_event(2), headers=headers, timeout=30)
            page = httpx.get(f"{base}/dashboard/", cookies={"sessionid": "s" * 32}, timeout=30)
            stream = httpx.get(f"{base}/api/v1/inbox/stream?token={inbox_token('acme', 'u-1')}", timeout=30)
            locker.rollback()
            done = held.result(timeout=60)
        assert done.status_code == 200, done.text
        assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200  # the pool recovered
    assert (busy.status_code, busy.headers.get("Retry-After"), busy.json()) == (503, "1", {"detail": DETAIL})
    assert (page.status_code, page.headers.get("Retry-After")) == (503, "1")
    assert (stream.status_code, stream.headers.get("Retry-After"), stream.json()) == (503, "1", {"detail": DETAIL})
    assert shared_db.scalar("SELECT count(*) FROM notifications_event") == 1  # the refused one was not taken in
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


async def _post_all(base: str, key: str, clients: int, each: int) -> list[tuple[int, str | None, int]]:
    import aiohttp

    results: list[tuple[int, str | None, int]] = []

    async def client(session: aiohttp.ClientSession, n: int) -> None:
        for k in range(each):
            number = n * each + k
            async with session.post(f"{base}/api/v1/events", json=_event(number, "load"),
                                    headers={"X-API-Key": key}) as response:
                await response.read()
                results.append((response.status, response.headers.get("Retry-After"), number))

    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as session:
        await asyncio.gather(*(client(session, n) for n in range(clients)))
    return results


@pytest.mark.postgres
@pytest.mark.slow
def test_200_concurrent_clients_get_no_500_and_every_accepted_event_is_taken_in(tmp_path, shared_db):
    """200 clients at once against `serve --workers 2` at the default pool: no 5xx (a 503 would need its
    Retry-After, and stays rare), every 2xx event is in the database; the worker runs once, not per process."""
    key = api_key(shared_db, "acme")
    log = tmp_path / "serve.log"
    with serving(shared_db, log, "--workers", "2", LOG_LEVEL="INFO") as (base, _):
        results = asyncio.run(_post_all(base, key, clients=200, each=3))
    statuses = [status for status, _, _ in results]
    assert len(results) == 600
    assert not [r for r in results if r[0] >= 500 and not (r[0] == 503 and r[1])], sorted(set(statuses))
    assert statuses.count(503) <= 6, statuses.count(503)
    accepted = sum(1 for status in statuses if 200 <= status < 300)
    assert accepted == statuses.count(200) and accepted >= 594
    assert shared_db.scalar("SELECT count(*) FROM notifications_event WHERE tenant_id = 'acme'") == accepted
    text = log.read_text()
    assert text.count("Started server process") == 2  # two web processes...
    assert text.count("delivery worker started") == 1  # ...and one delivery worker, in the parent
