"""`manage.py prune_history [--dry-run] [--tenant-id T ...]`: delete the history that has expired under each
tenant's retention (notifications/history/retention.py: the rule), in bounded batches, to the end. The workers do
the same in the background; this is for a first run on a large backlog, or to see what would go (--dry-run)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.history.retention import prune


class Command(BaseCommand):
    help = "Delete expired history (events, records with attempts, inbox) per the tenants' retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count what would be deleted; delete nothing")
        parser.add_argument("--tenant-id", action="append", help="Only this tenant (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        report = prune(dry_run=options["dry_run"], tenant_ids=options["tenant_id"])
        verb = "would delete" if options["dry_run"] else "deleted"
        counts = ", ".join(f"{table} {count:,}" for table, count in report.deleted.items() if count) or "nothing"
        self.stdout.write(f"{verb}: {counts}")
        if report.dropped:
            dropped = "would drop" if options["dry_run"] else "dropped"
            self.stdout.write(f"partitions {dropped} whole: {', '.join(report.dropped)}")
