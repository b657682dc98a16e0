from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.api.models import ApiKey


class Command(BaseCommand):
    help = "Revoke an API key by its prefix (the part after 'nsk_'), or list a tenant's keys."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix", nargs="?")
        parser.add_argument("--list", metavar="TENANT_ID", help="List the tenant's keys (prefixes only)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["list"]:
            for key in ApiKey.objects.filter(tenant_id=options["list"]):
                state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
                self.stdout.write(f"{key.prefix}\t{key.name}\t{key.created_at:%Y-%m-%d}\t{state}")
            return
        found = ApiKey.objects.filter(prefix=options["prefix"]).first()
        if found is None:
            raise CommandError(f"no API key with prefix {options['prefix']!r}")
        found.revoke()
        self.stdout.write(f"revoked {found.prefix} of tenant {found.tenant_id}")
