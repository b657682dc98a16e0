from __future__ import annotations

import logging
import threading
from typing import Any

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application
from django.core.management.base import BaseCommand, CommandParser

from notifications.delivery.worker import DeliveryLoop
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

    def handle(self, *args: Any, **options: Any) -> None:
        worker = None
        if not options["no_worker"]:
            worker = DeliveryLoop()
            worker.start()
        supervisor = None
        if kafka_configured() and not options["no_consumer"]:
            supervisor = ConsumerSupervisor()
            supervisor.start()
        elif not kafka_configured():
            logger.info("KAFKA_BOOTSTRAP_SERVERS is not set: no Kafka consumer; publish_event feeds local intake")
        application = ASGIStaticFilesHandler(get_asgi_application())
        try:
            # log_config=None: uvicorn's loggers go through Django's LOGGING, whose filter redacts secrets
            # (an inbox token in a stream URL's query string, say) and which can write JSON.
            uvicorn.run(application, host=options["host"], port=options["port"], lifespan="off",
                        log_config=None, timeout_graceful_shutdown=5)
        finally:
            if supervisor is not None:
                supervisor.stop()
                supervisor.join(timeout=30)
            if worker is not None:
                worker.stop()
                worker.join(timeout=10)


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
            except Exception:  # noqa: BLE001 - logged, then restarted
                logger.exception("kafka consumer died; restarting it in 5s")
                self._stopping.wait(5)
            finally:
                connections.close_all()

    def stop(self) -> None:
        self._stopping.set()
        if self._consumer is not None:
            self._consumer.stop()
