"""Fixtures for tests against a real Kafka broker (deploy/kafka/kafka.sh) and a database that other processes
can share (a SQLite file, or a fresh PostgreSQL database in the PostgreSQL pass)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.shared import SharedDatabase

ROOT = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = ROOT / "deploy" / "kafka" / "kafka.sh"


def _reachable(servers: str) -> bool:
    host, _, port = servers.split(",")[0].rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=2):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "")
    if servers:
        if not _reachable(servers):
            _unavailable(f"KAFKA_BOOTSTRAP_SERVERS={servers} is not reachable")
        yield servers
        return
    already_running = _reachable("127.0.0.1:9092")
    try:
        subprocess.run(["bash", str(KAFKA_SCRIPT), "start"], check=True, timeout=900,
                       stdout=sys.stderr, stderr=sys.stderr)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as err:
        _unavailable(f"the local Kafka broker did not start ({err})")
    before = _topics("127.0.0.1:9092")
    yield "127.0.0.1:9092"
    _delete_topics("127.0.0.1:9092", _topics("127.0.0.1:9092") - before)  # the local broker does not fill up
    if not already_running:  # leave a broker someone else started alone
        subprocess.run(["bash", str(KAFKA_SCRIPT), "stop"], check=False, timeout=120,
                       stdout=sys.stderr, stderr=sys.stderr)


def _topics(servers: str) -> set[str]:
    from confluent_kafka.admin import AdminClient

    return {name for name in AdminClient({"bootstrap.servers": servers}).list_topics(timeout=30).topics
            if not name.startswith("__")}


def _delete_topics(servers: str, topics: set[str]) -> None:
    from confluent_kafka.admin import AdminClient

    if topics:
        for future in AdminClient({"bootstrap.servers": servers}).delete_topics(sorted(topics)).values():
            with contextlib.suppress(Exception):  # gone already
                future.result(60)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"Kafka is required in CI: {reason}")
    pytest.skip(f"needs a Kafka broker: {reason}")


@pytest.fixture
def kafka_settings(settings: Any, kafka_bootstrap: str) -> Iterator[dict[str, Any]]:
    from notifications.kafka.producer import reset_shared_producer

    reset_shared_producer()
    settings.NOTIFICATIONS = {
        **settings.NOTIFICATIONS,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "KAFKA_DEAD_LETTER_TOPIC": f"dead-letter-{uuid.uuid4().hex[:8]}",
    }
    yield settings.NOTIFICATIONS
    reset_shared_producer()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def consumer_process(db: SharedDatabase, bootstrap: str, topic: str, group: str, dead_letter: str,
                     batch_size: int = 200, log_path: Path | None = None) -> subprocess.Popen:
    env = {**db.env, "KAFKA_BOOTSTRAP_SERVERS": bootstrap, "KAFKA_DEAD_LETTER_TOPIC": dead_letter}
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "start_kafka_consumer", "--topics", topic, "--group-id", group,
         "--batch-size", str(batch_size)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
