"""The transport comparisons that decide the providers' default clients (issue 16): each client alone against a
loopback sink, in this one process (one core), the clients alternated round by round in the same invocation.

    python bench/transports.py http [--rounds 3] [--count 20000] [--concurrency 200]
        the own HTTP/1.1 client vs the aiohttp adapter (channels/transport.py) against bench/sinks.py's HTTP sink
    python bench/transports.py smtp [--rounds 3] [--count 3000] [--pool 16] [--delay-ms 1]
        the own pipelining SMTP client (providers/smtp_client.py) vs aiosmtplib against the SMTP sink, each reply
        written --delay-ms late (a server at a distance: where pipelining matters)

bench/run.py's `--only http --transport aiohttp --transport own` runs the whole HTTP delivery workload once per
transport per round through `compare_delivery` below. The rule: the own client stays the default only if it is
more than 15% faster than the library in the same run."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common

MARGIN = 1.15  # the own client must beat the library by more than this ratio to stay
BODY = b'{"to": "+14155550123", "content": {"body": "' + b"x" * 160 + b'"}}'


def start_sink(kind: str, delay_ms: float = 0.0) -> tuple[subprocess.Popen, int]:
    port = common.free_port()
    process = subprocess.Popen([common.PY, str(common.ROOT / "bench/sinks.py"), kind, str(port), str(delay_ms)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    common.wait_port(port)
    return process, port


# --- HTTP -----------------------------------------------------------------------------------------------------
async def http_rate(kind: str, port: int, count: int, concurrency: int) -> float:
    """Requests/s of one transport: `count` POSTs, `concurrency` in flight, as a provider makes them."""
    from notifications.channels.transport import TRANSPORTS

    transport = TRANSPORTS[kind](limit=concurrency, timeout=10.0)  # type: ignore[call-arg]
    url, headers = f"http://127.0.0.1:{port}/send", {"Content-Type": "application/json"}
    limit = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with limit:
            response = await transport.request("POST", url, headers, BODY)
            if response.status != 200:
                raise RuntimeError(f"sink answered {response.status}")

    try:
        await asyncio.gather(*(one() for _ in range(min(count // 10, 1000))))  # warm: connections open
        started = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(count)))
        return count / (time.perf_counter() - started)
    finally:
        await transport.aclose()


# --- SMTP -----------------------------------------------------------------------------------------------------
def _message() -> bytes:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "measured"
    message.set_content("x" * 600)
    return message.as_bytes()


async def smtp_rate(kind: str, port: int, count: int, pool: int) -> float:
    """Messages/s of one client: `pool` connections, each sending message after message."""
    data = _message()
    if kind == "own":
        from notifications.channels.providers.smtp_client import connect

        clients = [await connect("127.0.0.1", port, start_tls=False) for _ in range(pool)]

        async def send(client: object) -> None:
            await client.send("a@example.com", "b@example.com", data)  # type: ignore[attr-defined]

        async def close(client: object) -> None:
            await client.quit()  # type: ignore[attr-defined]
    else:
        import aiosmtplib

        clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False) for _ in range(pool)]
        await asyncio.gather(*(client.connect() for client in clients))

        async def send(client: object) -> None:
            await client.sendmail("a@example.com", ["b@example.com"], data)  # type: ignore[attr-defined]

        async def close(client: object) -> None:
            await client.quit()  # type: ignore[attr-defined]

    async def worker(client: object, share: int) -> None:
        for _ in range(share):
            await send(client)

    shares = [count // pool + (1 if n < count % pool else 0) for n in range(pool)]
    started = time.perf_counter()
    await asyncio.gather(*(worker(client, share) for client, share in zip(clients, shares, strict=True)))
    rate = count / (time.perf_counter() - started)
    await asyncio.gather(*(close(client) for client in clients))
    return rate


# --- the comparison -------------------------------------------------------------------------------------------
def alternate(kinds: list[str], rounds: int, measure: Callable[[str], float]) -> dict[str, list[float]]:
    """`measure` each kind once per round; the order flips every round so that neither always goes first."""
    results: dict[str, list[float]] = {kind: [] for kind in kinds}
    for number in range(rounds):
        for kind in kinds if number % 2 == 0 else kinds[::-1]:
            results[kind].append(measure(kind))
            print(f"  round {number + 1} {kind:<10} {results[kind][-1]:>10,.0f}/s", flush=True)
    return results


def verdict(results: dict[str, list[float]], own: str, library: str, unit: str) -> str:
    mine, theirs = statistics.median(results[own]), statistics.median(results[library])
    ratio = mine / theirs
    keep = ratio > MARGIN
    lines = [f"{kind}: {', '.join(f'{value:,.0f}' for value in values)} {unit} (median "
             f"{statistics.median(values):,.0f})" for kind, values in results.items()]
    lines.append(f"{own}/{library} = {ratio:.2f} (medians): "
                 + (f"{own} stays the default (more than {MARGIN - 1:.0%} faster)" if keep
                    else f"{library} becomes the default ({own} not more than {MARGIN - 1:.0%} faster)"))
    return "\n".join(lines)


def compare_delivery(workload: Callable[[], None], kinds: list[str], rounds: int,
                     results: list[dict[str, object]]) -> str:
    """bench/run.py's HTTP delivery workload once per transport per round; the worker processes read the
    transport from NOTIFICATIONS_HTTP_TRANSPORT."""
    import os

    def measure(kind: str) -> float:
        os.environ["NOTIFICATIONS_HTTP_TRANSPORT"] = kind
        try:
            workload()
        finally:
            os.environ.pop("NOTIFICATIONS_HTTP_TRANSPORT", None)
        row = results[-1]
        row["name"] = f"{row['name']} [{kind}]"
        return float(row["value"])  # type: ignore[arg-type]

    outcome = alternate(kinds, rounds, measure)
    return verdict(outcome, "own", "aiohttp", "sends/s") if {"own", "aiohttp"} <= set(kinds) else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["http", "smtp"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--count", type=int)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--pool", type=int, default=16)
    parser.add_argument("--delay-ms", type=float, default=1.0)
    args = parser.parse_args()
    if args.kind == "http":
        sink, port = start_sink("http")
        try:
            results = alternate(["aiohttp", "own"], args.rounds, lambda kind: asyncio.run(
                http_rate(kind, port, args.count or 20_000, args.concurrency)))
        finally:
            sink.terminate()
        print(verdict(results, "own", "aiohttp", "requests/s"))
    else:
        sink, port = start_sink("smtp", args.delay_ms)
        try:
            results = alternate(["aiosmtplib", "own"], args.rounds, lambda kind: asyncio.run(
                smtp_rate(kind, port, args.count or 3_000, args.pool)))
        finally:
            sink.terminate()
        print(verdict(results, "own", "aiosmtplib", "messages/s"))


if __name__ == "__main__":
    main()
