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
        consumer, consumer_thread = None, None
        if kafka_configured() and not options["no_consumer"]:
            from notifications.kafka.consumer import BatchConsumer

            consumer = BatchConsumer()
            consumer_thread = threading.Thread(target=consumer.run, name="kafka-consumer", daemon=True)
            consumer_thread.start()
        elif not kafka_configured():
            logger.info("KAFKA_BOOTSTRAP_SERVERS is not set: no Kafka consumer; publish_event feeds local intake")
        application = ASGIStaticFilesHandler(get_asgi_application())
        try:
            uvicorn.run(application, host=options["host"], port=options["port"], lifespan="off", log_level="info")
        finally:
            if consumer is not None and consumer_thread is not None:
                consumer.stop()
                consumer_thread.join(timeout=30)
            if worker is not None:
                worker.stop()
                worker.join(timeout=10)
