from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.i18n import LANGUAGES, SOURCE_LANGUAGE
from notifications.rendering import messages


class Command(BaseCommand):
    help = ("The gettext catalogs of the built-in texts (notifications/locale): `extract` writes the template and "
            "merges new messages into each language's .po; `check` fails when a catalog lacks a translation. "
            "No compile step: catalogs are compiled in memory when first used.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["extract", "check"])

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "extract":
            for language, count in messages.update().items():
                self.stdout.write(f"{language}: {count} message(s) to translate")
            return
        template = messages.extract()
        failed = False
        for language in LANGUAGES:
            if language == SOURCE_LANGUAGE:
                continue
            problems = messages.check(language, template)
            if problems:
                failed = True
                self.stderr.write(f"{language}: {problems}")
        if failed:
            raise CommandError("catalogs are not complete: run `manage.py notification_messages extract`, "
                               "then translate the empty entries")
        self.stdout.write(self.style.SUCCESS("catalogs complete"))
