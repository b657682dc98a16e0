"""`make bench`: throughput and latency of the service next to the raw ceilings, on the real Kafka broker and
PostgreSQL, in one run. Prints one table and appends it, with date and commit, to bench/README.md.

    python bench/run.py [--events 300000] [--consumers 4] [--deliveries 20000] [--workers 2] [--rate 1000]
                        [--seconds 60] [--http-requests 10000]
                        [--only intake|http-ingest|email|http|e2e|scheduled|digest|fanout|history]
                        [--scheduled-burst 100000] [--fanout-subscribers 1000000]
                        [--history] [--history-events 10000000] [--history-rounds 2]
                        [--no-record] [--transport aiohttp --transport own [--transport-rounds 2]]

`--history` adds the history workload (bench/history.py: intake, HTTP delivery and end to end on the fresh
database and on 20,000,000 preloaded records, alternating) to a full run; it is not in the default run because it
takes ~30 minutes more (the preload alone ~11) and writes ~12 GB; `--only history` runs it alone.

`--transport` (repeatable) runs the HTTP delivery workload once per transport per round, alternating, and prints
the ratio (bench/transports.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import smtplib
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common
from bench.e2e import bench_end_to_end
from bench.harness import RESULTS, VERDICTS, record, setup_django
from bench.harness import clear as _clear
from bench.harness import manage as _manage
from bench.harness import stop as _stop
from bench.harness import wait_for as _wait_for
from bench.harness import wait_for_tails as _wait_for_tails

TARGETS = {
    "intake": ("events/s", 10_000),
    "email": ("sends/s", 2_000),
    "http": ("sends/s", 3_000),
}


def bench_intake(bootstrap: str, count: int, processes: int) -> None:
    from confluent_kafka import Consumer
    from django.db import connection

    from notifications.models import NotificationRecord

    topic = f"bench-intake-{uuid.uuid4().hex[:6]}"
    common.create_topic(bootstrap, topic, 6)
    events = common.event_mix(count)
    common.produce(bootstrap, topic, common.encode(events))
    tails = common.partition_tails(bootstrap, topic)

    # Ceiling: the same messages consumed with no processing at all.
    raw = Consumer({"bootstrap.servers": bootstrap, "group.id": f"raw-{uuid.uuid4().hex[:6]}",
                    "auto.offset.reset": "earliest", "enable.auto.commit": False})
    raw.subscribe([topic])
    seen, started = 0, time.perf_counter()
    while seen < count:
        seen += sum(1 for m in raw.consume(2000, 1.0) if m.error() is None)
    raw_rate = count / (time.perf_counter() - started)
    raw.close()

    # The service: `start_kafka_consumer --processes N` from cold start until every event is committed.
    started = time.perf_counter()
    share = common.CpuShare()
    consumer = _manage("start_kafka_consumer", "--topics", topic, "--group-id", f"bench-{uuid.uuid4().hex[:6]}",
                       "--batch-size", "2000", "--processes", str(processes))
    try:
        first_at, first_count = _wait_for_tails(tails, consumer)
        finished = time.perf_counter()
        elapsed = finished - started
    finally:
        _stop(consumer)
    cpu = share.note("consumers")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM notifications_event WHERE tenant_id = 'bench'")
        committed = cursor.fetchone()[0]
    if committed != count:
        raise SystemExit(f"intake: every partition's last event is in, but {committed} of {count} events are")
    records = NotificationRecord.objects.filter(tenant_id="bench").count()
    record("intake: Kafka -> records committed", count / elapsed, "events/s", raw_rate,
           f"{count} events, {processes} consumer processes from cold start, batch 2000; {cpu}; "
           f"first commit after {first_at - started:.1f} s, then "
           f"{(count - first_count) / max(finished - first_at, 1e-9):,.0f} events/s")
    record("intake: records written", records / elapsed, "records/s", None, f"{records} records")

    # Ceiling: PostgreSQL COPY of the same number of event and record rows.
    rows_events = [(str(uuid.uuid4()), e["event_type"], json.dumps(e["payload"])) for e in events]
    rows_records = [(i, "email", "pending") for i in range(records)]
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_events (id uuid, event_type text, payload jsonb)")
        cursor.execute("CREATE TEMP TABLE copy_records (n bigint, channel text, status text)")
        raw_pg = cursor.connection
        started = time.perf_counter()
        with raw_pg.cursor().copy("COPY copy_events FROM STDIN") as copy:
            for row in rows_events:
                copy.write_row(row)
        with raw_pg.cursor().copy("COPY copy_records FROM STDIN") as copy:
            for row in rows_records:
                copy.write_row(row)
        raw_pg.commit() if not raw_pg.autocommit else None
        copy_elapsed = time.perf_counter() - started
        cursor.execute("DROP TABLE copy_events, copy_records")  # the history workload measures intake twice
    record("ceiling: PostgreSQL COPY of events+records", count / copy_elapsed, "events/s", None,
           f"{count} event rows + {records} record rows")
    RESULTS[-3]["copy_ceiling"] = count / copy_elapsed
    _clear()


# --- (c) delivery -------------------------------------------------------------------------------------------
def _pending_records(channel: str, count: int, tenant: str) -> None:
    from notifications.intake.service import process_events
    from notifications.testing.factories import make_event

    event_type = "user.login.succeeded" if channel == "email" else "user.password.reset.requested"
    for start in range(0, count, 2000):
        batch = []
        for n in range(start, min(start + 2000, count)):
            overrides = {"user_id": f"d-{n}", "email": f"d{n}@example.com"}
            if channel == "sms":
                overrides["email"] = None
            batch.append(make_event(event_type, tenant, **overrides) | {"event_id": f"{channel}-{n}"})
        process_events(batch)


def _deliver(tenant: str, count: int, processes: int, concurrency: int, sink_pid: int) -> tuple[int, float, str]:
    """`run_delivery_worker --once --processes N` from cold start until the tenant's records are all sent."""
    from notifications.models import NotificationRecord

    share = common.CpuShare(sink_pid)
    started = time.perf_counter()
    worker = _manage("run_delivery_worker", "--once", "--processes", str(processes), "--concurrency", str(concurrency))
    try:
        sent = f"SELECT count(*) FROM notifications_notificationrecord WHERE tenant_id = '{tenant}' AND status = 'sent'"  # noqa: S608 - the bench's own tenant name
        first_at, first_count = _wait_for(sent, count, worker)
        finished = time.perf_counter()
        elapsed = finished - started
    finally:
        _stop(worker)
    cpu = (f"{share.note('workers')}; first sends stored after {first_at - started:.1f} s, then "
           f"{(count - first_count) / max(finished - first_at, 1e-9):,.0f} sends/s")
    return NotificationRecord.objects.filter(tenant_id=tenant, status="sent").count(), elapsed, cpu


def bench_email(count: int, processes: int) -> None:
    from notifications.channels.models import ProviderConfig
    from notifications.tenants.models import Tenant

    sink, port = common.start_smtp_sink()
    try:
        Tenant.ensure(["bench-mail"])
        ProviderConfig.objects.create(tenant_id="bench-mail", channel="email", provider="smtp",
                                      options={"host": "127.0.0.1", "port": port, "start_tls": False,
                                               "pool_size": 16})
        _pending_records("email", count, "bench-mail")
        sent, elapsed, cpu = _deliver("bench-mail", count, processes, 200, sink.pid)

        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "ceiling"
        message.set_content("x" * 600)
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as client:
            for _ in range(count):
                client.send_message(message)
        raw_rate = count / (time.perf_counter() - started)
    finally:
        sink.terminate()
    record("delivery: e-mail to SMTP sink (pooled smtp)", sent / elapsed, "sends/s", raw_rate,
           f"{sent} sent, {processes} worker processes from cold start, concurrency 200, pool 16; "
           f"ceiling: one smtplib connection; {cpu}")
    _clear()


def bench_http(count: int, processes: int) -> None:
    import aiohttp

    from notifications.channels.models import ProviderConfig
    from notifications.tenants.models import Tenant

    sink, port = common.start_http_sink()
    try:
        Tenant.ensure(["bench-sms"])
        ProviderConfig.objects.create(tenant_id="bench-sms", channel="sms", provider="webhook",
                                      options={"url": f"http://127.0.0.1:{port}/send", "max_concurrency": 200})
        _pending_records("sms", count, "bench-sms")
        sent, elapsed, cpu = _deliver("bench-sms", count, processes, 200, sink.pid)

        async def raw() -> float:
            body = json.dumps({"to": "+14155550123", "content": {"body": "x" * 160}}).encode()
            limit = asyncio.Semaphore(200)
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
                async def one() -> None:
                    async with limit, session.post(f"http://127.0.0.1:{port}/send", data=body) as response:
                        await response.read()

                started = time.perf_counter()
                await asyncio.gather(*(one() for _ in range(count)))
                return count / (time.perf_counter() - started)

        raw_rate = asyncio.run(raw())  # the worker's loop too: asyncio's
    finally:
        sink.terminate()
    record("delivery: SMS via HTTP provider to loopback", sent / elapsed, "sends/s", raw_rate,
           f"{sent} sent, {processes} worker processes from cold start, concurrency 200; "
           f"ceiling: one aiohttp client process; {cpu}")
    _clear()


# --- report -------------------------------------------------------------------------------------------------
def verdicts() -> list[str]:
    by_name = {row["name"]: row for row in RESULTS}
    lines = []

    def judge(label: str, row: dict[str, Any] | None, target: float, better: str) -> None:
        if row is None:
            lines.append(f"- {label}: not measured")
            return
        value = row["value"]
        met = value >= target if better == "higher" else value <= target
        lines.append(f"- {label}: {'met' if met else 'NOT met'} ({value:,.0f} {row['unit']} vs target {target:,})")

    judge("intake >= 10,000 events/s", by_name.get("intake: Kafka -> records committed"), 10_000, "higher")
    judge("end-to-end p99 <= 500 ms (in-app)", by_name.get("end to end p99 (in_app)"), 500, "lower")
    judge("end-to-end p99 <= 500 ms (email)", by_name.get("end to end p99 (email)"), 500, "lower")
    judge("email >= 2,000 sends/s", by_name.get("delivery: e-mail to SMTP sink (pooled smtp)"), 2_000, "higher")
    judge("HTTP providers >= 3,000 sends/s", by_name.get("delivery: SMS via HTTP provider to loopback"), 3_000,
          "higher")
    judge("scheduled: 100,000 due at once all sent within 30 s",
          by_name.get("scheduled: burst due at once, last sent after"), 30, "lower")
    judge("digest: exactly one digest per window and key (problems = 0)",
          by_name.get("digest: problems (windows without exactly one digest, events missing)"), 0, "lower")
    judge("scheduled: steady 1,000/s p99 lateness <= 1,000 ms",
          by_name.get("scheduled: steady 1,000/s, lateness p99"), 1_000, "lower")
    judge("fan-out: topic of 1,000,000 -> records at >= 30,000 recipients/s",
          by_name.get("fan-out: topic of subscribers -> records committed"), 30_000, "higher")
    judge("fan-out: resident memory flat (growth after the first tenth <= 16 MiB)",
          by_name.get("fan-out: resident memory growth after the first tenth"), 16, "lower")
    judge("fan-out: exactly one record per subscriber and channel (problems = 0)",
          by_name.get("fan-out: problems (subscribers without exactly one record per channel)"), 0, "lower")
    judge("fan-out: killed half-way, resumed, exactly one record each (problems = 0)",
          by_name.get("fan-out: killed half-way and resumed, problems"), 0, "lower")
    return lines


def write_report(args: argparse.Namespace, elapsed: float) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=common.ROOT).stdout.strip() or "unknown"
    lines = [f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}", "",
             f"2 cores; events={args.events} ({args.consumers} consumers), deliveries={args.deliveries} "
             f"({args.workers} workers), e2e {args.rate}/s for {args.seconds}s (1 consumer, {args.workers} workers); "
             + (f"history preload {args.history_events} events; " if args.history or "history" in (args.only or [])
                else "") +
             f"run took {elapsed:.0f}s.", "",
             "| measurement | result | ceiling (same run) | ratio | notes |", "|---|---|---|---|---|"]
    for row in RESULTS:
        ceiling = row.get("ceiling")
        ratio = f"{row['value'] / ceiling:.0%}" if ceiling else ""
        ceiling_text = f"{ceiling:,.0f} {row['unit']}" if ceiling else ""
        lines.append(f"| {row['name']} | {row['value']:,.1f} {row['unit']} | {ceiling_text} | {ratio} | "
                     f"{row['note']} |")
    if any("copy_ceiling" in row for row in RESULTS):
        row = next(row for row in RESULTS if "copy_ceiling" in row)
        lines.append(f"| intake vs PostgreSQL COPY | | {row['copy_ceiling']:,.0f} events/s | "
                     f"{row['value'] / row['copy_ceiling']:.0%} | |")
    lines += ["", "Targets:", *verdicts(), *VERDICTS, ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=300_000)
    parser.add_argument("--deliveries", type=int, default=20_000)
    parser.add_argument("--consumers", type=int, default=4,
                        help="Consumer processes for the intake workload (two per core: each waits for PostgreSQL "
                        "about a quarter of its time)")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes for the delivery workloads")
    parser.add_argument("--rate", type=int, default=1_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--http-requests", type=int, default=10_000,
                        help="Single-event POSTs for the HTTP ingestion line (200 concurrent clients)")
    parser.add_argument("--only", choices=["intake", "http-ingest", "email", "http", "e2e", "scheduled", "digest",
                                           "fanout", "history"], action="append")
    parser.add_argument("--history", action="store_true",
                        help="Add the history workload to a full run (bench/history.py: ~30 minutes more)")
    parser.add_argument("--history-rounds", type=int, default=2,
                        help="Rounds of the history workload on each database (fresh and history alternating)")
    parser.add_argument("--history-events", type=int, default=10_000_000,
                        help="Events of the history preload, two records each (bench/history_seed.py)")
    parser.add_argument("--fanout-subscribers", type=int, default=1_000_000,
                        help="Subscribers of the topic the fan-out workload sends one event to (bench/fanout.py)")
    parser.add_argument("--scheduled-burst", type=int, default=100_000,
                        help="Notifications due in the same second (bench/scheduled.py)")
    parser.add_argument("--no-record", action="store_true", help="Do not append to bench/README.md")
    parser.add_argument("--transport", choices=["own", "aiohttp"], action="append",
                        help="HTTP delivery once per transport per round, alternating (bench/transports.py)")
    parser.add_argument("--transport-rounds", type=int, default=2)
    args = parser.parse_args()
    started = time.monotonic()
    bootstrap = common.start_kafka()
    common.delete_bench_topics(bootstrap)
    database_url = common.fresh_database()
    try:
        setup_django(database_url, bootstrap)
        only = set(args.only or ["intake", "http-ingest", "email", "http", "e2e", "scheduled", "digest", "fanout",
                                 *(["history"] if args.history else [])])
        print(f"{'measurement':<46} {'result':>12} {'unit':<10} {'ceiling':>20}  ratio")
        if "intake" in only:
            bench_intake(bootstrap, args.events, args.consumers)
        if "http-ingest" in only:
            from bench.http_ingest import bench_http_ingest

            bench_http_ingest(record, args.http_requests)
            _clear()
        if "email" in only:
            bench_email(args.deliveries, args.workers)
        if "http" in only and args.transport:
            from bench.transports import compare_delivery

            print(compare_delivery(lambda: bench_http(args.deliveries, args.workers), args.transport,
                                   args.transport_rounds, RESULTS))
        elif "http" in only:
            bench_http(args.deliveries, args.workers)
        if "e2e" in only:
            bench_end_to_end(bootstrap, database_url, args.rate, args.seconds, args.workers)
            _clear()
        if "scheduled" in only:
            from bench.scheduled import bench_scheduled

            bench_scheduled(args.scheduled_burst, args.rate, min(args.seconds, 30), args.workers)
            _clear()
        if "digest" in only:
            from bench.digest import run as bench_digest

            bench_digest(50_000, 5_000, 2, tenant="bench-digest", record=record)
            _clear()
        if "fanout" in only:
            from bench.fanout import run as bench_fanout

            bench_fanout(args.fanout_subscribers, record=record)
            _clear()
        if "history" in only:  # last: its preload stays in the database until the end
            from bench.history import bench_history

            bench_history(bootstrap, database_url,
                          {"intake": lambda: bench_intake(bootstrap, args.events, args.consumers),
                           "http": lambda: bench_http(args.deliveries, args.workers)},
                          args.history_events, (args.rate, args.seconds, args.workers), args.history_rounds)
    finally:
        from django.db import connections

        connections.close_all()
        common.drop_database(database_url)
        common.delete_bench_topics(bootstrap)
    report = write_report(args, time.monotonic() - started)
    print("\n" + report)
    if not args.no_record:
        with (common.ROOT / "bench" / "README.md").open("a", encoding="utf-8") as readme:
            readme.write("\n" + report)


if __name__ == "__main__":
    main()
