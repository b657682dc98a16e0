"""`make bench`: throughput and latency of the service next to the raw ceilings, on the real Kafka broker and
PostgreSQL, in one run. Prints one table and appends it, with date and commit, to bench/README.md.

    python bench/run.py [--events 300000] [--consumers 4] [--deliveries 20000] [--workers 2] [--rate 1000]
                        [--seconds 60] [--http-requests 10000] [--only intake|http-ingest|email|http|e2e]
                        [--no-record] [--transport aiohttp --transport own [--transport-rounds 2]]

`--transport` (repeatable) runs the HTTP delivery workload once per transport per round, alternating, and prints
the ratio (bench/transports.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
from bench import common  # noqa: E402

RESULTS: list[dict[str, Any]] = []
TARGETS = {
    "intake": ("events/s", 10_000),
    "email": ("sends/s", 2_000),
    "http": ("sends/s", 3_000),
}


def record(name: str, value: float, unit: str, ceiling: float | None = None, note: str = "") -> None:
    row = {"name": name, "value": value, "unit": unit, "ceiling": ceiling, "note": note}
    RESULTS.append(row)
    ratio = f"{value / ceiling:.0%}" if ceiling else "-"
    print(f"  {name:<44} {value:>12,.1f} {unit:<10} ceiling {ceiling or 0:>12,.1f}  {ratio}", flush=True)


def setup_django(database_url: str, bootstrap: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "notification_service.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


# --- (a) intake ---------------------------------------------------------------------------------------------
def _manage(*arguments: str, **env: str) -> subprocess.Popen:
    """A management command of the service, as a user would run it, on the benchmark's database and broker."""
    return subprocess.Popen([common.PY, str(common.ROOT / "manage.py"), *arguments],
                            env={**os.environ, "LOG_LEVEL": "WARNING", **env})


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
    process.wait(timeout=60)


def _wait_for(query: str, expected: int, process: subprocess.Popen, timeout: float = 600) -> tuple[float, int]:
    """Until `query` counts `expected` rows; fails if the process exits first or time runs out. Returns when
    (perf_counter) the first rows were seen and how many they were."""
    from django.db import connection

    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(query)
            seen = cursor.fetchone()[0]
            if seen and first is None:
                first = (time.perf_counter(), seen)
            if seen >= expected:
                assert first is not None
                return first
            if process.poll() is not None:
                raise SystemExit(f"the service exited with {process.returncode} before finishing")
            time.sleep(0.25)  # a count costs the database: often enough to time to 1%, no more
    raise SystemExit(f"timed out waiting for {expected} rows: {query}")


def _wait_for_tails(event_ids: list[str], process: subprocess.Popen, timeout: float = 600) -> tuple[float, int]:
    """Until the events named (each partition's last one, common.partition_tails) are committed; returns when
    (perf_counter) the first events were seen and how many they were. Polls a few keys in the dedupe index, and
    counts the table only once, at the first sight (when it is small)."""
    from django.db import connection

    keys = [f"id:{event_id}" for event_id in event_ids]
    deadline = time.monotonic() + timeout
    first: tuple[float, int] | None = None
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            if first is None:
                cursor.execute("SELECT EXISTS (SELECT 1 FROM notifications_event WHERE tenant_id = 'bench')")
                if cursor.fetchone()[0]:
                    seen_at = time.perf_counter()
                    cursor.execute("SELECT count(*) FROM notifications_event WHERE tenant_id = 'bench'")
                    first = (seen_at, cursor.fetchone()[0])
            cursor.execute("SELECT count(*) FROM notifications_event WHERE tenant_id = 'bench' "
                           "AND dedupe_key = ANY(%s)", [keys])
            if first is not None and cursor.fetchone()[0] == len(keys):
                return first
            if process.poll() is not None:
                raise SystemExit(f"the service exited with {process.returncode} before finishing")
            time.sleep(0.05)
    raise SystemExit(f"timed out waiting for the last events of every partition: {event_ids}")


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
    records = NotificationRecord.objects.count()
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
    record("ceiling: PostgreSQL COPY of events+records", count / copy_elapsed, "events/s", None,
           f"{count} event rows + {records} record rows")
    RESULTS[-3]["copy_ceiling"] = count / copy_elapsed
    _clear()


def _clear() -> None:
    """Each workload starts from empty tables: pending records of one must not become work for the next."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE notifications_deliveryattempt, notifications_inappmessage, "
                       "notifications_notificationrecord, notifications_event, notifications_contact CASCADE")


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
        first_at, first_count = _wait_for(f"SELECT count(*) FROM notifications_notificationrecord "
                                          f"WHERE tenant_id = '{tenant}' AND status = 'sent'", count, worker)
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


# --- (b) end to end -----------------------------------------------------------------------------------------
def bench_end_to_end(bootstrap: str, database_url: str, rate: int, seconds: int, worker_processes: int = 2) -> None:
    from confluent_kafka import Producer
    from django.db import connection

    from notifications.channels.models import ProviderConfig
    from notifications.tenants.models import Tenant

    sink, port = common.start_smtp_sink()
    http_sink, http_port = common.start_http_sink()
    topic = f"bench-e2e-{uuid.uuid4().hex[:6]}"
    common.create_topic(bootstrap, topic, 6)
    Tenant.ensure(["bench-e2e"])
    ProviderConfig.objects.create(tenant_id="bench-e2e", channel="email", provider="smtp",
                                  options={"host": "127.0.0.1", "port": port, "start_tls": False, "pool_size": 8})
    ProviderConfig.objects.create(tenant_id="bench-e2e", channel="sms", provider="webhook",
                                  options={"url": f"http://127.0.0.1:{http_port}/sms"})
    # The same realistic mix of the 11 types as the intake workload, stamped with the time they are published.
    total = rate * seconds
    events = common.event_mix(total, tenant="bench-e2e")
    # The service with default settings: one consumer process and the worker with one process per core (the
    # worker woken by intake's NOTIFY, batches of up to KAFKA_BATCH_SIZE waiting at most KAFKA_BATCH_WAIT_MS).
    # One worker process is bound to one core by the GIL: at the ~770 sends/s of this mix it ran at three
    # quarters of its capacity and records queued behind each claim (delivery leg p99 780-920 ms against
    # 225 ms with two).
    group = f"e2e-{uuid.uuid4().hex[:6]}"
    consumer = _manage("start_kafka_consumer", "--topics", topic, "--group-id", group)
    worker = _manage("run_delivery_worker", "--processes", str(worker_processes),
                     LOG_LEVEL=os.environ.get("E2E_WORKER_LOG", "WARNING"))
    try:
        # Publishing starts once the service is up: the consumer group owns the topic's partitions (and at least
        # the 5 s the worker takes to start). The load generator's own start (the producer fetching metadata)
        # is also done before the clock starts.
        ready = common.wait_for_group(bootstrap, group, topic, 6)
        time.sleep(max(5.0 - ready, 0))
        # librdkafka's default batching (linger.ms 5), as an application publishing events would have it.
        producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True})
        producer.list_topics(topic, timeout=10)
        # An idempotent producer holds its first messages until the broker gave it a producer id (up to half a
        # second after a broker start, "coordinator load in progress"): one confirmed message to a topic of its
        # own, so that the events' clock measures the service and not the load generator's start.
        common.create_topic(bootstrap, f"{topic}-warm-up", 1)
        confirmed: list[Any] = []
        producer.produce(f"{topic}-warm-up", b"{}", on_delivery=lambda err, _: confirmed.append(err))
        if producer.flush(30) or confirmed != [None]:
            raise SystemExit(f"the load generator's warm-up message was not confirmed: {confirmed}")
        started = time.monotonic()
        for n, event in enumerate(events):
            due = started + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            event["timestamp"] = datetime.now(UTC).isoformat()
            producer.produce(topic, json.dumps(event).encode(),
                             key=f"bench-e2e:{event['payload']['user_id']}".encode())
            producer.poll(0)
        producer.flush(30)
        publish_seconds = time.monotonic() - started
        deadline = time.monotonic() + 120
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM notifications_notificationrecord WHERE tenant_id = 'bench-e2e' "
                               "AND status IN ('pending', 'sending', 'retrying')")
                open_records = cursor.fetchone()[0]
                cursor.execute("SELECT count(*) FROM notifications_event WHERE tenant_id = 'bench-e2e'")
                if cursor.fetchone()[0] >= total and open_records == 0:
                    break
                time.sleep(0.5)
            for channel in ("in_app", "email", "sms"):
                cursor.execute(
                    "SELECT percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM "
                    "r.sent_at - e.occurred_at)), count(*) FROM notifications_notificationrecord r "
                    "JOIN notifications_event e ON e.id = r.event_id WHERE r.tenant_id = 'bench-e2e' "
                    "AND r.channel = %s AND r.status = 'sent'", [channel])
                (p50, p95, p99), sent = cursor.fetchone()
                if not sent:
                    continue
                note = (f"{sent} sent; {total} events published at {total / publish_seconds:,.0f}/s; 1 consumer, "
                        f"worker --processes {worker_processes}")
                if channel != "in_app":  # in-app is sent within intake's transaction
                    # Where the time goes: event -> record written (intake), record written -> sent (delivery).
                    cursor.execute(
                        "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM r.created_at - "
                        "e.occurred_at)), percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM "
                        "r.sent_at - r.created_at)) FROM notifications_notificationrecord r JOIN notifications_event e "
                        "ON e.id = r.event_id WHERE r.tenant_id = 'bench-e2e' AND r.channel = %s AND r.status = 'sent'",
                        [channel])
                    intake_p99, delivery_p99 = cursor.fetchone()
                    note += (f"; p99 of each leg: event to record written {intake_p99 * 1000:,.0f} ms, written to "
                             f"sent {delivery_p99 * 1000:,.0f} ms")
                    # The tail, second by second (by when the event was published): a cold start shows in the
                    # first seconds, a database's vacuum or a plan gone bad in the seconds it lasts.
                    cursor.execute(
                        "SELECT second, max(latency) FROM (SELECT floor(extract(epoch FROM e.occurred_at - "
                        "min(e.occurred_at) OVER ()))::int AS second, extract(epoch FROM r.sent_at - e.occurred_at) "
                        "AS latency FROM notifications_notificationrecord r JOIN notifications_event e ON e.id = "
                        "r.event_id WHERE r.tenant_id = 'bench-e2e' AND r.channel = %s AND r.status = 'sent') AS t "
                        "GROUP BY second ORDER BY 2 DESC LIMIT 3", [channel])
                    note += "; slowest seconds of the run: " + ", ".join(
                        f"{second} s ({latency * 1000:,.0f} ms)" for second, latency in cursor.fetchall())
                record(f"end to end p50 ({channel})", p50 * 1000, "ms", None, note)
                record(f"end to end p95 ({channel})", p95 * 1000, "ms", None, note)
                record(f"end to end p99 ({channel})", p99 * 1000, "ms", None, note)
    finally:
        for process in (consumer, worker):
            _stop(process)
        sink.terminate()
        http_sink.terminate()


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
    return lines


def write_report(args: argparse.Namespace, elapsed: float) -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                            cwd=common.ROOT).stdout.strip() or "unknown"
    lines = [f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}", "",
             f"2 cores; events={args.events} ({args.consumers} consumers), deliveries={args.deliveries} "
             f"({args.workers} workers), e2e {args.rate}/s for {args.seconds}s (1 consumer, {args.workers} workers); "
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
    lines += ["", "Targets:", *verdicts(), ""]
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
    parser.add_argument("--only", choices=["intake", "http-ingest", "email", "http", "e2e"], action="append")
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
        only = set(args.only or ["intake", "http-ingest", "email", "http", "e2e"])
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
