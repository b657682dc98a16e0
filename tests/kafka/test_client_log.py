"""librdkafka's log lines go through Python logging, rate-limited; none reach stderr raw."""

from __future__ import annotations

import logging
import socket
import time

from notifications.kafka.client_log import ClientLog
from notifications.kafka.config import client_config
from notifications.kafka.producer import EventProducer


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_client_facing_a_closed_port_logs_through_logging_not_stderr(settings, caplog, capfd):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{_closed_port()}"}
    caplog.set_level(logging.INFO, logger="notifications.kafka.librdkafka")
    producer = EventProducer()
    try:
        deadline = time.monotonic() + 20  # librdkafka tries to connect at once; this only bounds a failure
        while not caplog.records and time.monotonic() < deadline:
            producer.flush(0.2)
    finally:
        producer.close()

    lines = [record.getMessage() for record in caplog.records]
    assert any("Connection refused" in line and line.startswith("librdkafka FAIL [") for line in lines), lines
    assert all(record.levelno >= logging.WARNING for record in caplog.records if "FAIL" in record.getMessage())
    assert "|FAIL|" not in capfd.readouterr().err


def test_every_client_config_carries_its_own_client_log(settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:9"}
    first, second = client_config()["logger"], client_config()["logger"]

    assert isinstance(first, ClientLog) and first is not second


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_flood_of_the_same_line_is_written_once_per_interval_with_a_count(caplog):
    clock = _Clock()
    log = ClientLog(interval=30, logger=logging.getLogger("tests.librdkafka"), clock=clock)
    caplog.set_level(logging.DEBUG, logger="tests.librdkafka")

    for attempt in range(500):  # the same failure, its timing figures changing
        log.log(logging.ERROR, "%s [%s] %s", "FAIL", "c#producer-1", f"Connect failed (after {attempt}ms)")
        clock.now += 0.1  # 50 s in all
    log.log(logging.ERROR, "%s [%s] %s", "FAIL", "c#producer-2", "Connect failed (after 1ms)")  # another client
    log.log(logging.WARNING, "%s [%s] %s", "REQTMOUT", "c#producer-1", "Timed out")  # another line

    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        "librdkafka FAIL [c#producer-1] Connect failed (after 0ms)",
        "librdkafka FAIL [c#producer-1] Connect failed (after 300ms) (299 more like it in the last 30s)",
        "librdkafka FAIL [c#producer-2] Connect failed (after 1ms)",
        "librdkafka REQTMOUT [c#producer-1] Timed out",
    ]
