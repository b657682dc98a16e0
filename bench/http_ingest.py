"""HTTP ingestion: single-event `POST /api/v1/events` from 200 concurrent clients against `manage.py serve` at its
default web processes (one per core), the way a producer without Kafka would send. Reports requests/s, p50 and
p99 latency and the errors; the ceiling is `GET /healthz` (one query) at the same concurrency on the same server.

    bash scripts/postgres.sh run .venv/bin/python bench/run.py --only http-ingest --no-record

`DATABASE_POOL=off` (and `SERVE_WORKERS=1`) in the environment measure without the pool (and with one process)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench import common

CLIENTS = 200


async def _load(url: str, requests: int, body: Callable[[int], dict[str, Any]] | None,
                headers: dict[str, str]) -> tuple[float, list[float], dict[int, int]]:
    """`requests` calls from CLIENTS clients at once, each sending its next one when the last is answered;
    returns the elapsed seconds, every latency (s) and the count per status (0: no answer)."""
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    numbers = iter(range(requests))

    async def client(session: aiohttp.ClientSession) -> None:
        for number in numbers:
            started = time.perf_counter()
            status = 0
            try:
                if body is None:
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        status = response.status
                else:
                    async with session.post(url, json=body(number), headers=headers) as response:
                        await response.read()
                        status = response.status
            except aiohttp.ClientError:
                pass
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(CLIENTS)))
        return time.perf_counter() - started, latencies, statuses


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000)[int(share * 1000) - 1] if len(values) > 1 else values[0]


def bench_http_ingest(record: Callable[..., None], requests: int) -> None:
    from django.db import connection

    from notifications.api.models import ApiKey
    from notifications.testing.factories import make_event

    tenant = "bench-http-in"
    _, key = ApiKey.issue(tenant, "bench")
    events = common.event_mix(requests, tenant=tenant)
    for n, event in enumerate(events):
        event["event_id"] = f"http-{n}"
    # --no-worker/--no-consumer: the line measures taking events in over HTTP, nothing else in the same processes.
    server, base = common.start_serve("--no-worker", "--no-consumer")
    try:
        warm = [make_event("content.liked", tenant, user_id=f"w-{n}") for n in range(CLIENTS)]
        asyncio.run(_load(f"{base}/api/v1/events", CLIENTS, warm.__getitem__, {"X-API-Key": key}))
        elapsed, latencies, statuses = asyncio.run(
            _load(f"{base}/api/v1/events", requests, events.__getitem__, {"X-API-Key": key}))
        ceiling_elapsed, _, _ = asyncio.run(_load(f"{base}/healthz", requests, None, {}))
    finally:
        server.terminate()
        server.wait(timeout=60)
    accepted = sum(count for status, count in statuses.items() if 200 <= status < 300)
    errors = requests - accepted
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM notifications_event WHERE tenant_id = %s AND dedupe_key LIKE 'id:http-%%'",
                       [tenant])
        stored = cursor.fetchone()[0]
    if stored != accepted:
        raise SystemExit(f"http ingest: {accepted} events answered 2xx but {stored} are in the database")
    codes = ", ".join(f"{status or 'no answer'}: {count}" for status, count in sorted(statuses.items()))
    note = (f"{requests} single-event POSTs from {CLIENTS} concurrent clients against `serve` (default web "
            f"processes; worker and consumer off); answers {codes}; {errors} errors; ceiling: GET /healthz "
            f"at the same concurrency")
    record("http ingest: POST /api/v1/events, 200 clients", requests / elapsed, "requests/s",
           requests / ceiling_elapsed, note)
    record("http ingest p50 latency", _percentile(latencies, 0.5) * 1000, "ms", None, note)
    record("http ingest p99 latency", _percentile(latencies, 0.99) * 1000, "ms", None, note)
    record("http ingest errors", errors, "requests", None, note)
