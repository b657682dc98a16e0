from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.conf import get_setting
from notifications.kafka.config import kafka_configured


class Command(BaseCommand):
    help = "Print the consumer group's lag per partition."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--group-id", help="Consumer group (default: KAFKA_GROUP_ID)")
        parser.add_argument("--topics", nargs="+", help="Topics (default: KAFKA_TOPICS)")

    def handle(self, *args: Any, **options: Any) -> None:
        if not kafka_configured():
            raise CommandError("KAFKA_BOOTSTRAP_SERVERS is not set")
        from notifications.kafka.admin import group_lag

        group = options["group_id"] or get_setting("KAFKA_GROUP_ID")
        topics = [t for item in options["topics"] or get_setting("KAFKA_TOPICS") for t in item.split(",") if t]
        rows = group_lag(group, topics)
        self.stdout.write(f"{'TOPIC':<32} {'PARTITION':>9} {'COMMITTED':>10} {'END':>10} {'LAG':>8}")
        for row in rows:
            committed = "-" if row.committed is None else str(row.committed)
            self.stdout.write(f"{row.topic:<32} {row.partition:>9} {committed:>10} {row.end:>10} {row.lag:>8}")
        self.stdout.write(f"group {group}: total lag {sum(row.lag for row in rows)} over {len(rows)} partitions")
