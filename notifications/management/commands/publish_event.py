from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.utils.kafka_producer import publish_event_sync


class Command(BaseCommand):
    help = "Publish one event (JSON from an argument, --file or stdin) the way publish_event() does."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("topic", help="e.g. auth-events")
        parser.add_argument("event", nargs="?", help="The event as JSON; omit to read --file or stdin")
        parser.add_argument("--file", help="Read the event from this JSON file")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["event"]:
            text = options["event"]
        elif options["file"]:
            with open(options["file"], encoding="utf-8") as source:
                text = source.read()
        else:
            text = sys.stdin.read()
        try:
            event = json.loads(text)
        except json.JSONDecodeError as err:
            raise CommandError(f"the event is not valid JSON: {err.msg} at line {err.lineno}") from err
        published = publish_event_sync(options["topic"], event)
        result = published.result
        self.stdout.write(str(result) if result is not None else f"published to {options['topic']}"
                          + (f" (event_id {published})" if published else ""))
