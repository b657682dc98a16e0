from __future__ import annotations

from typing import Any

import uvicorn
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
from django.core.asgi import get_asgi_application
from django.core.management.base import BaseCommand, CommandParser

from notifications.delivery.worker import DeliveryLoop


class Command(BaseCommand):
    help = "Serve the API, admin and pages with uvicorn, with the delivery worker in the same process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-worker", action="store_true", help="Do not run the delivery worker in-process")

    def handle(self, *args: Any, **options: Any) -> None:
        worker = None
        if not options["no_worker"]:
            worker = DeliveryLoop()
            worker.start()
        application = ASGIStaticFilesHandler(get_asgi_application())
        try:
            uvicorn.run(application, host=options["host"], port=options["port"], lifespan="off", log_level="info")
        finally:
            if worker is not None:
                worker.stop()
                worker.join(timeout=10)
