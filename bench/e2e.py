"""The end-to-end workload of `make bench`: events published to Kafka at a steady rate, taken in by the
consumer and delivered by the workers to local sinks; latency from publish to delivery, per channel."""

from __future__ import annotations

import json
import os
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from bench import common
from bench.harness import manage as _manage
from bench.harness import record
from bench.harness import stop as _stop


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
