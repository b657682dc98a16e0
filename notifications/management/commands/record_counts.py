"""`manage.py record_counts [--recount]`: whether the dashboard's hourly counts of records
(observability/record_counts.py) match the records themselves, and with --recount, count them again. Both read
the whole records table; --recount holds writes to it meanwhile (9.7 s at 20,000,000 records). For a count that
drifted: a statement that named one of the table's partitions directly, which fires no trigger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.observability import record_counts

SHOWN = 20


class Command(BaseCommand):
    help = "Check the dashboard's hourly record counts against the records; --recount counts them again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--recount", action="store_true",
                            help="Replace the counts by a count of the records (holds writes to the records)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["recount"]:
            self.stdout.write(f"counted again: {record_counts.recount():,} keys")
            return
        differences = record_counts.drift()
        if not differences:
            self.stdout.write("the counts match the records")
            return
        for (hour, tenant_id, channel, status, reason), counted, recorded in differences[:SHOWN]:
            self.stdout.write(f"{hour}:00 {tenant_id} {channel} {status} {reason or '-'}: "
                              f"counted {counted:,}, records {recorded:,}")
        raise CommandError(f"{len(differences):,} counts differ from the records: `manage.py record_counts "
                           f"--recount` counts them again")
