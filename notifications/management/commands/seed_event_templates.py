from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.rendering.seeding import seed_templates
from notifications.tenants.models import validate_tenant_id


class Command(BaseCommand):
    help = "Create the default notification templates of every event type for a tenant (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id", required=True, help="The tenant to seed (created if new)")
        parser.add_argument("--overwrite", action="store_true", help="Replace templates that were edited")
        parser.add_argument("--locale", default="", help="Seed this locale's templates (de, de-AT), the texts "
                            "written out in its language; default: the tenant's default locale's (\"\")")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_id = options["tenant_id"]
        try:
            validate_tenant_id(tenant_id)
        except ValidationError as err:
            raise CommandError(f"invalid --tenant-id {tenant_id!r}: {err.messages[0]}") from err
        try:
            report = seed_templates(tenant_id, overwrite=options["overwrite"], locale=options["locale"])
        except ValidationError as err:
            raise CommandError(f"invalid --locale {options['locale']!r}: {'; '.join(err.messages)}") from err
        where = f" [{options['locale']}]" if options["locale"] else ""
        self.stdout.write(self.style.SUCCESS(f"Templates for tenant {tenant_id}{where}: {report}"))
