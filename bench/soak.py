"""`make soak`: a consumer and a worker process under a steady load for 10 minutes; their resident memory must
stay flat (growth under 10% from the end of the warm-up to the end). Appends the result to bench/README.md."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import common


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before the baseline sample")
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    bootstrap = common.start_kafka()
    common.delete_bench_topics(bootstrap)
    database_url = common.fresh_database()
    os.environ.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="notification_service.settings",
                      LOG_LEVEL="WARNING")
    import django

    django.setup()
    from confluent_kafka import Producer
    from django.core.management import call_command

    from notifications.channels.models import ProviderConfig
    from notifications.testing.factories import make_event

    call_command("migrate", verbosity=0)
    sink, port = common.start_smtp_sink()
    http_sink, http_port = common.start_http_sink()
    from notifications.tenants.models import Tenant

    Tenant.ensure(["soak"])
    ProviderConfig.objects.create(tenant_id="soak", channel="email", provider="smtp",
                                  options={"host": "127.0.0.1", "port": port, "start_tls": False})
    ProviderConfig.objects.create(tenant_id="soak", channel="sms", provider="webhook",
                                  options={"url": f"http://127.0.0.1:{http_port}/send"})
    topic = f"bench-soak-{uuid.uuid4().hex[:6]}"
    common.create_topic(bootstrap, topic, 6)
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "NOTIFICATIONS_DELIVERY_POLL_SECONDS": "0.1"}
    manage = [common.PY, str(common.ROOT / "manage.py")]
    consumer = subprocess.Popen([*manage, "start_kafka_consumer", "--topics", topic, "--group-id", topic], env=env)
    worker = subprocess.Popen([*manage, "run_delivery_worker"], env=env)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    samples: list[tuple[float, int, int]] = []
    started = time.monotonic()
    total = int(args.minutes * 60 * args.rate)
    next_sample = started
    try:
        for n in range(total):
            due = started + n / args.rate
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            event_type = common.TYPES[n % len(common.TYPES)]
            event = make_event(event_type, "soak", user_id=f"s-{n % 3000}", email=f"s{n % 3000}@example.com",
                               timestamp=datetime.now(UTC))
            event["event_id"] = f"soak-{n}"
            producer.produce(topic, json.dumps(event).encode(), key=f"soak:s-{n % 3000}".encode())
            producer.poll(0)
            if time.monotonic() >= next_sample:
                samples.append((time.monotonic() - started, common.rss_kib(consumer.pid), common.rss_kib(worker.pid)))
                next_sample += 10
        producer.flush(30)
        time.sleep(5)
        samples.append((time.monotonic() - started, common.rss_kib(consumer.pid), common.rss_kib(worker.pid)))
    finally:
        for process in (consumer, worker, sink, http_sink):
            process.terminate()
        from django.db import connections

        connections.close_all()
        common.drop_database(database_url)
        common.delete_bench_topics(bootstrap)

    baseline = next(s for s in samples if s[0] >= args.warmup)
    final = samples[-1]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    lines = [f"### soak {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}",
             "", f"{args.minutes:g} min at {args.rate} events/s ({total} events).", "",
             "| process | RSS after warm-up | RSS at end | growth |", "|---|---|---|---|"]
    verdict = True
    for index, name in ((1, "consumer"), (2, "worker")):
        growth = (final[index] - baseline[index]) / baseline[index]
        verdict &= growth < 0.10
        lines.append(f"| {name} | {baseline[index] / 1024:.1f} MiB | {final[index] / 1024:.1f} MiB | {growth:+.1%} |")
    lines += ["", f"Target (growth < 10%): {'met' if verdict else 'NOT met'}", ""]
    report = "\n".join(lines)
    print(report)
    if not args.no_record:
        with (common.ROOT / "bench" / "README.md").open("a", encoding="utf-8") as readme:
            readme.write("\n" + report)


if __name__ == "__main__":
    main()
