from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.api.models import ApiKey
from notifications.tenants.models import validate_tenant_id


class Command(BaseCommand):
    help = "Create an API key for a tenant. The key is printed once and stored only as a hash."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id", required=True)
        parser.add_argument("--name", default="", help="What the key is for")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            validate_tenant_id(options["tenant_id"])
        except ValidationError as err:
            raise CommandError(err.messages[0]) from err
        key, text = ApiKey.issue(options["tenant_id"], options["name"])
        self.stderr.write(f"API key {key.prefix} for tenant {key.tenant_id} (shown once; store it now):")
        self.stdout.write(text)
