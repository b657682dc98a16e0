from __future__ import annotations

import logging
import os
import threading
from typing import Any

import uvicorn
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from notification_service.asgi import serve_application
from notifications.audiences.runner import FanOutRunner
from notifications.delivery.loop import DeliveryLoop
from notifications.kafka.config import kafka_configured

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = ("Serve the API, admin and pages with uvicorn, with the delivery worker in the same process, and the "
            "Kafka consumer too when KAFKA_BOOTSTRAP_SERVERS is set.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Do not run the delivery worker in-process")
        parser.add_argument("--no-consumer", action="store_true", help="Do not run the Kafka consumer in-process")
        parser.add_argument("--workers", type=int, default=None,
                            help="Web processes (default: SERVE_WORKERS, else one per core on PostgreSQL and 1 on "
                            "SQLite, which takes one writer at a time). The delivery worker and the Kafka consumer "
                            "run once, in this process, whatever the number.")

    def handle(self, *args: Any, **options: Any) -> None:
        workers = web_workers(options["workers"])
        worker = fanouts = None
        if not options["no_worker"]:
            worker = DeliveryLoop()
            worker.start()
            fanouts = FanOutRunner()  # audience events' records, chunk by chunk (notifications/audiences)
            fanouts.start()
        supervisor = None
        if kafka_configured() and not options["no_consumer"]:
            supervisor = ConsumerSupervisor()
            supervisor.start()
        elif not kafka_configured():
            logger.info("KAFKA_BOOTSTRAP_SERVERS is not set: no Kafka consumer; publish_event feeds local intake")
        # log_config=None: uvicorn's loggers go through Django's LOGGING, whose filter redacts secrets
        # (an inbox token in a stream URL's query string, say) and which can write JSON.
        common: dict[str, Any] = {"host": options["host"], "port": options["port"], "lifespan": "off",
                                  "log_config": None, "timeout_graceful_shutdown": 5}
        # Hand back what this thread used (system checks, settings): with a pool, a connection kept by the main
        # thread would be one the requests never get.
        connections.close_all()
        try:
            if workers == 1:
                uvicorn.run(serve_application(), **common)
            else:
                # Several processes need the application by name: each web process imports it and sets Django up.
                logger.info("serving with %d web processes on %s:%s", workers, options["host"], options["port"])
                uvicorn.run("notification_service.asgi:serve_application", factory=True, workers=workers, **common)
        finally:
            if supervisor is not None:
                supervisor.stop()
                supervisor.join(timeout=30)
            if fanouts is not None:
                fanouts.stop()
                fanouts.join(timeout=10)
            if worker is not None:
                worker.stop()
                worker.join(timeout=10)


def web_workers(requested: int | None) -> int:
    """--workers, else SERVE_WORKERS, else one per core on PostgreSQL and one on SQLite."""
    count = requested or int(getattr(settings, "SERVE_WORKERS", 0) or 0)
    sqlite = connection.vendor == "sqlite"
    if not count:
        count = 1 if sqlite else len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
            os.cpu_count() or 1)
    if count < 1:
        raise CommandError("--workers must be 1 or more")
    if sqlite and count > 1:
        logger.warning("%d web processes on SQLite: it takes one writer at a time and realtime inbox updates "
                       "reach only the process that wrote them; use PostgreSQL for several", count)
    return count


class ConsumerSupervisor(threading.Thread):
    """Runs the Kafka consumer in this process and starts a new one if it ever dies (a fatal client error),
    so the web process does not carry on silently without consuming."""

    def __init__(self) -> None:
        super().__init__(name="kafka-consumer", daemon=True)
        self._stopping = threading.Event()
        self._consumer: Any = None

    def run(self) -> None:
        from django.db import connections

        from notifications.kafka.consumer import BatchConsumer

        while not self._stopping.is_set():
            try:
                self._consumer = BatchConsumer()
                self._consumer.run()
            except Exception:
                logger.exception("kafka consumer died; restarting it in 5s")
                self._stopping.wait(5)
            finally:
                connections.close_all()

    def stop(self) -> None:
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.stop()
