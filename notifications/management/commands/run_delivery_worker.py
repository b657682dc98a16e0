from __future__ import annotations

import os
import signal
import subprocess
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.rendering.service import warm_up
from notifications.utils.processes import WORKER_CHECKS, run_copies, settle_heap, start_command


class Command(BaseCommand):
    help = "Deliver due notifications: once (--once) or continuously until SIGTERM/SIGINT."
    # No URL checks: this process serves no URLs, and loading the API for them cost a third of its start.
    requires_system_checks = WORKER_CHECKS

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="Deliver everything due now, then exit")
        parser.add_argument("--concurrency", type=int, default=None,
                            help="Most sends in flight at once (default NOTIFICATIONS_DELIVERY_CONCURRENCY, 100)")
        parser.add_argument("--poll", type=float, default=None, help="Seconds between polls when idle")
        parser.add_argument("--metrics-port", type=int,
                            help="Serve Prometheus metrics on 127.0.0.1:PORT (PORT+i for the i-th of --processes)")
        parser.add_argument("--processes", type=int, default=1,
                            help="Worker processes (default 1); their claims never overlap")
        parser.add_argument("--no-fanout", action="store_true",
                            help="Do not start a fan-out runner process beside the worker (notifications/audiences)")

    def handle(self, *args: Any, **options: Any) -> None:
        # Loaded before --processes copies are forked, so that each copy starts with it.
        from notifications.audiences.runner import run_until_idle
        from notifications.delivery.engine import DeliveryEngine, default_engine, deliver_until_idle
        from notifications.delivery.loop import DeliveryLoop

        if options["processes"] > 1:
            raise SystemExit(run_copies("run_delivery_worker", lambda index: _child_arguments(options, index),
                                        options["processes"]))
        if options["metrics_port"]:
            from prometheus_client import start_http_server

            from notifications.observability import collectors  # noqa: F401

            start_http_server(options["metrics_port"], addr="127.0.0.1")
        warm_up()  # templates compiled and locale data loaded before the first batch
        settle_heap()
        if options["once"]:
            run_until_idle()  # audience events' records first (notifications/audiences)
            engine = DeliveryEngine(options["concurrency"]) if options["concurrency"] else default_engine()
            try:
                report = deliver_until_idle(engine=engine)
            finally:
                engine.runtime.run(engine.aclose())  # provider connections closed, not left to the collector
            self.stdout.write(f"Delivery: {report}")
            return
        loop = DeliveryLoop(poll_seconds=options["poll"], concurrency=options["concurrency"])
        # Audience events' records are written by a runner in a process of its own (`manage.py fanout runner`):
        # as a thread here it took the worker's interpreter lock, and sends slowed to a fraction while it ran.
        fanouts = None if options["no_fanout"] else start_command("fanout", "runner", "--parent", str(os.getpid()))

        def stop(*_: Any) -> None:
            if fanouts is not None and fanouts.poll() is None:
                fanouts.send_signal(signal.SIGTERM)
            loop.stop()

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)
        try:
            loop.run()
        finally:
            if fanouts is not None:
                stop()
                try:
                    fanouts.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    fanouts.kill()


def _child_arguments(options: dict[str, Any], index: int) -> list[str]:
    arguments = ["--once"] if options["once"] else []
    if index or options["no_fanout"]:
        arguments.append("--no-fanout")  # one fan-out runner for the copies: the first's
    if options["concurrency"]:
        arguments += ["--concurrency", str(options["concurrency"])]
    if options["poll"] is not None:
        arguments += ["--poll", str(options["poll"])]
    if options["metrics_port"]:
        arguments += ["--metrics-port", str(options["metrics_port"] + index)]
    return arguments
