from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from prometheus_client import start_http_server

from notifications.kafka.config import kafka_configured
from notifications.rendering.service import warm_up
from notifications.utils.processes import WORKER_CHECKS, run_copies, settle_heap


class Command(BaseCommand):
    help = "Consume events from Kafka (the guide's topics by default) until SIGTERM/SIGINT."
    # No URL checks: this process serves no URLs, and loading the API for them cost a third of its start.
    requires_system_checks = WORKER_CHECKS

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--topics", nargs="+", help="Topics to read (default: KAFKA_TOPICS)")
        parser.add_argument("--group-id", help="Consumer group (default: KAFKA_GROUP_ID)")
        parser.add_argument("--batch-size", type=int, help="Messages per batch and DB transaction (default 500)")
        parser.add_argument("--create-topics", action="store_true",
                            help="Create missing topics (KAFKA_TOPIC_PARTITIONS partitions)")
        parser.add_argument("--metrics-port", type=int,
                            help="Serve Prometheus metrics on 127.0.0.1:PORT (PORT+i for the i-th of --processes)")
        parser.add_argument("--processes", type=int, default=1,
                            help="Consumer processes in the group (default 1; one per core to use them all)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not kafka_configured():
            raise CommandError(
                "KAFKA_BOOTSTRAP_SERVERS is not set. Start the local broker with "
                "`bash deploy/kafka/kafka.sh start` and export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:9092"
            )
        from notifications.kafka.consumer import BatchConsumer

        if options["processes"] > 1:
            raise SystemExit(run_copies("start_kafka_consumer", lambda index: _child_arguments(options, index),
                                        options["processes"]))
        if options["metrics_port"]:
            start_http_server(options["metrics_port"], addr="127.0.0.1")
        topics = [t for item in options["topics"] or [] for t in item.split(",") if t]
        warm_up()  # templates compiled and locale data loaded before the first batch
        consumer = BatchConsumer(
            topics=topics or None,
            group_id=options["group_id"],
            batch_size=options["batch_size"],
            create_topics=True if options["create_topics"] else None,
        )
        settle_heap()
        try:
            stats = consumer.run(install_signal_handlers=True)
        finally:
            connections.close_all()
        self.stdout.write(f"Kafka consumer stopped: {stats}")


def _child_arguments(options: dict[str, Any], index: int) -> list[str]:
    arguments = []
    if options["topics"]:
        arguments += ["--topics", *options["topics"]]
    if options["group_id"]:
        arguments += ["--group-id", options["group_id"]]
    if options["batch_size"]:
        arguments += ["--batch-size", str(options["batch_size"])]
    if options["create_topics"]:
        arguments.append("--create-topics")
    if options["metrics_port"]:
        arguments += ["--metrics-port", str(options["metrics_port"] + index)]
    return arguments
