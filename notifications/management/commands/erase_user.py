"""`manage.py erase_user --tenant-id T --user-id U`: erase one person's data in every table (notifications/history/
erasure.py says what is done to each). Prints the pseudonym their rows now carry and the counts; nothing of theirs."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.history.erasure import erase_user


class Command(BaseCommand):
    help = "Erase one person's data (contact, devices, preferences, subscriptions, inbox, events, records...)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id", required=True)
        parser.add_argument("--user-id", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        report = erase_user(options["tenant_id"], options["user_id"], requested_by="command")
        if not report.found:
            raise CommandError("nothing of this user was found in this tenant: nothing erased")
        counts = ", ".join(f"{name} {count:,}" for name, count in report.counts.items() if count)
        self.stdout.write(f"erased; their rows now carry {report.pseudonym}: {counts}")
