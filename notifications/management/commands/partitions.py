"""`manage.py partitions [--since DATE] [--list]`: make the time partitions of the history tables ahead (the
range of now and NOTIFICATIONS["PARTITIONS_AHEAD"] more; back to --since too, for an import of older history),
and list them. PostgreSQL only (history/partitions.py: the rule); delivery workers do the same every retention
sweep, so this is for deployment scripts and imports."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from notifications.db import partitioning
from notifications.history import partitions
from notifications.utils.moments import command_moment


class Command(BaseCommand):
    help = "Make the history tables' time partitions ahead (PostgreSQL), and list them."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="Also make the ranges back to this time (ISO 8601 with zone)")
        parser.add_argument("--list", action="store_true", help="List each table's partitions afterwards")

    def handle(self, *args: Any, **options: Any) -> None:
        if not partitions.enabled():
            raise CommandError("the history tables are not partitioned here (SQLite, or migrations not applied)")
        since = command_moment(options["since"], "since") if options["since"] else None
        made = partitions.ensure(since=since)
        self.stdout.write(f"made {len(made)} partitions" + (f": {', '.join(made)}" if made else ""))
        if options["list"]:
            with connection.cursor() as cursor:
                for spec in partitions.TABLES:
                    for part in partitioning.partitions(cursor, spec.table):
                        bounds = "default" if part.is_default else f"{part.lower or 'MINVALUE'} .. {part.upper}"
                        rows = partitioning.estimated_rows(cursor, part.name)
                        self.stdout.write(f"{spec.table:<34} {part.name:<46} {bounds}  ~{rows:,} rows")
