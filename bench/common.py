"""Shared plumbing of the benchmark harness: services, a fresh database, load generation, sinks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def start_kafka() -> str:
    subprocess.run(["bash", str(ROOT / "deploy/kafka/kafka.sh"), "start"], check=True, stdout=sys.stderr)
    return "127.0.0.1:9092"


def fresh_database() -> str:
    """A new PostgreSQL database on the server DATABASE_URL points at (set by scripts/postgres.sh)."""
    import psycopg

    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        raise SystemExit("the benchmarks run on PostgreSQL: use `make bench` (scripts/postgres.sh sets it up)")
    name = f"bench_{datetime.now(UTC):%Y%m%d_%H%M%S}_{uuid.uuid4().hex[:4]}"
    with psycopg.connect("dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgres:///{name}"


def standalone(workload: Callable[[], int]) -> None:
    """Run a workload module on its own (`python bench/<name>.py`): a fresh database, Django set up and
    migrated, the workload, the database dropped; exits 1 when it returns problems."""
    url = fresh_database()
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="notification_service.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
        if os.environ.get("BENCH_PARTITIONS_BACK_DAYS"):  # the partitions a long history has (issue 20)
            from datetime import timedelta

            from django.utils import timezone

            from notifications.history.partitions import ensure

            ensure(since=timezone.now() - timedelta(days=int(os.environ["BENCH_PARTITIONS_BACK_DAYS"])))
        problems = workload()
    finally:
        connections.close_all()
        drop_database(url)
    sys.exit(1 if problems else 0)


def drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect("dbname=postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


TYPES = [
    "user.registration.completed", "user.password.reset.requested", "user.login.succeeded", "user.login.failed",
    "invoice.payment.failed", "task.assigned", "comment.mentioned", "content.liked", "auth.2fa.code.requested",
    "auth.2fa.attempt.failed", "auth.2fa.method.changed",
]
# A realistic mix: engagement events dominate, security ones are rare.
WEIGHTS = [4, 3, 10, 3, 2, 15, 15, 30, 8, 2, 1]


def event_mix(count: int, tenant: str = "bench", users: int = 5000, seed: int = 7) -> list[dict[str, Any]]:
    import random

    from notifications.testing.factories import make_event

    rng = random.Random(seed)
    types = rng.choices(TYPES, weights=WEIGHTS, k=count)
    events = []
    for n, event_type in enumerate(types):
        user = f"user-{rng.randrange(users)}"
        overrides: dict[str, Any] = {"user_id": user, "email": f"{user}@example.com", "phone": "+14155550123"}
        if event_type == "auth.2fa.code.requested":
            overrides["method"] = rng.choice(["sms", "email", "in_app"])
        event = make_event(event_type, tenant, **overrides)
        event["event_id"] = f"bench-{n}"
        events.append(event)
    return events


def encode(events: list[dict[str, Any]]) -> list[tuple[bytes, bytes]]:
    return [(f"{e['tenant_id']}:{e['payload']['user_id']}".encode(), json.dumps(e).encode()) for e in events]


def produce(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50, "batch.size": 1_000_000,
                         "enable.idempotence": True, "compression.type": "lz4"})
    for key, value in messages:
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
    left = producer.flush(120)
    if left:
        raise SystemExit(f"{left} benchmark messages were not delivered to Kafka within 120 s")


def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])[topic].result(30)


def partition_tails(bootstrap: str, topic: str) -> list[str]:
    """The event_id of the last message in each partition of `topic`. A partition is taken in in order (one
    transaction per batch, offsets stored after it), so once every tail is in the database, so is every event:
    checking a handful of keys costs the database nothing, where counting a growing table several times a second
    had taken up to a quarter of the machine from the service being measured."""
    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"tails-{time.monotonic_ns()}",
                         "enable.auto.commit": False})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        wanted = []
        for partition in partitions:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, partition), timeout=10)
            if high > 0:
                wanted.append(TopicPartition(topic, partition, high - 1))
        consumer.assign(wanted)
        tails: dict[int, str] = {}
        deadline = time.monotonic() + 30
        while len(tails) < len(wanted) and time.monotonic() < deadline:
            for message in consumer.consume(len(wanted), 1.0):
                if message.error() is None:
                    tails[message.partition()] = json.loads(message.value())["event_id"]
        if len(tails) < len(wanted):
            raise SystemExit(f"could not read the last message of every partition of {topic}")
        return list(tails.values())
    finally:
        consumer.close()


def wait_for_group(bootstrap: str, group: str, topic: str, partitions: int, timeout: float = 60) -> float:
    """Until the consumer group owns every partition of `topic` (the service is ready to consume); returns the
    seconds waited."""
    from confluent_kafka import ConsumerGroupState
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        description = admin.describe_consumer_groups([group])[group].result(10)
        owned = sum(1 for member in description.members for tp in member.assignment.topic_partitions
                    if tp.topic == topic)
        if description.state == ConsumerGroupState.STABLE and owned == partitions:
            return time.monotonic() - started
        time.sleep(0.2)
    raise SystemExit(f"consumer group {group} did not take {topic}'s {partitions} partitions in {timeout:.0f} s")


def delete_bench_topics(bootstrap: str) -> None:
    """Remove the topics earlier benchmark runs created: every partition left on the broker costs it CPU, and
    a run must not depend on what ran before it."""
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({"bootstrap.servers": bootstrap})
    topics = [name for name in admin.list_topics(timeout=30).topics if name.startswith("bench-")]
    if not topics:
        return
    for future in admin.delete_topics(topics, operation_timeout=60).values():
        try:
            future.result(60)
        except Exception as err:  # noqa: BLE001 - already gone
            print(f"bench: could not delete a topic: {err}", file=sys.stderr)


def start_sink(kind: str) -> tuple[subprocess.Popen, int]:
    """A loopback sink from bench/sinks.py ("smtp" or "http"); returns the process and its port."""
    port = free_port()
    process = subprocess.Popen([PY, str(ROOT / "bench/sinks.py"), kind, str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_port(port)
    return process, port


def start_smtp_sink() -> tuple[subprocess.Popen, int]:
    return start_sink("smtp")


def start_http_sink() -> tuple[subprocess.Popen, int]:
    return start_sink("http")


def machine_busy_seconds() -> float:
    """CPU time the whole machine has spent busy (all cores), from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU time of this process's finished (waited-for) descendants."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class CpuShare:
    """Who used the machine's cores during a measurement: the service's processes (finished children of this
    one), the sink, and everything else (PostgreSQL, the broker, this harness)."""

    def __init__(self, sink_pid: int | None = None) -> None:
        self.sink_pid = sink_pid
        self.machine = machine_busy_seconds()
        self.children = children_cpu_seconds()
        self.sink = cpu_seconds(sink_pid) if sink_pid else 0.0
        self.started = time.monotonic()

    def note(self, service: str) -> str:
        wall = (time.monotonic() - self.started) * (os.cpu_count() or 1)
        machine = machine_busy_seconds() - self.machine
        children = children_cpu_seconds() - self.children
        sink = (cpu_seconds(self.sink_pid) - self.sink) if self.sink_pid else 0.0
        rest = max(machine - children - sink, 0.0)
        parts = [f"{service} {children / wall:.0%}"]
        if self.sink_pid:
            parts.append(f"sink {sink / wall:.0%}")
        parts += [f"other {rest / wall:.0%}", f"idle {max(1 - machine / wall, 0):.0%}"]
        return "CPU of all cores: " + ", ".join(parts)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_serve(*arguments: str, **env: str) -> tuple[subprocess.Popen, str]:
    """`manage.py serve` on a free loopback port with this process's DATABASE_URL (plus `env`); returns the
    process and its base URL once /healthz answers."""
    import urllib.request

    port = free_port()
    process = subprocess.Popen([PY, str(ROOT / "manage.py"), "serve", "--port", str(port), *arguments],
                               env={**os.environ, "LOG_LEVEL": "WARNING", **env}, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310 - the http URL above
                if response.status == 200:
                    return process, base
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise SystemExit("serve did not answer /healthz within 60 s")
