from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.conf import get_setting
from notifications.kafka.config import kafka_configured


class Command(BaseCommand):
    help = "Create the guide's topics and the dead-letter topic where missing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--partitions", type=int, default=None)
        parser.add_argument("--replication-factor", type=int, default=None)
        parser.add_argument("--topics", nargs="+", help="Topics (default: KAFKA_TOPICS and the dead-letter topic)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not kafka_configured():
            raise CommandError("KAFKA_BOOTSTRAP_SERVERS is not set")
        from notifications.kafka.admin import ensure_topics

        topics = options["topics"] or [*get_setting("KAFKA_TOPICS"), get_setting("KAFKA_DEAD_LETTER_TOPIC")]
        created = ensure_topics(
            topics,
            partitions=options["partitions"] or int(get_setting("KAFKA_TOPIC_PARTITIONS", 6)),
            replication_factor=options["replication_factor"] or int(get_setting("KAFKA_REPLICATION_FACTOR", 1)),
        )
        self.stdout.write(f"created: {', '.join(created) or 'none'}; present: {', '.join(topics)}")
