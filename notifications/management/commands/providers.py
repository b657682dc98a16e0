from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.channels.declaration import option_names, required_options
from notifications.channels.models import ProviderConfig
from notifications.channels.provider_config import validate_config
from notifications.channels.registry import provider_class, provider_names
from notifications.channels.spec import provider_channels
from notifications.errors import NotificationConfigurationError
from notifications.tenants.models import Tenant


class Command(BaseCommand):
    help = ("List, add and remove a tenant's delivery providers, and describe what each provider takes. "
            "Credentials are stored encrypted, never shown.")

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("--tenant-id")
        add = sub.add_parser("add")
        add.add_argument("--tenant-id", required=True)
        add.add_argument("--channel", required=True, choices=provider_channels())
        add.add_argument("--provider", required=True, help="A registered provider: see `providers describe`")
        add.add_argument("--priority", type=int, default=0, help="Lower is tried first")
        add.add_argument("--options", default="{}", help="JSON object of non-secret settings")
        add.add_argument("--credentials-file", help="JSON file with the secrets (read, encrypted, not echoed)")
        remove = sub.add_parser("remove")
        remove.add_argument("id", type=int)
        describe = sub.add_parser("describe")
        describe.add_argument("name", nargs="?", help="One provider (default: all registered)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            query = ProviderConfig.objects.all()
            if options["tenant_id"]:
                query = query.filter(tenant_id=options["tenant_id"])
            for row in query:
                state = "enabled" if row.enabled else "disabled"
                self.stdout.write(
                    f"{row.pk}\t{row.tenant_id}\t{row.channel}\t{row.priority}\t{row.provider}\t{state}\t"
                    f"options={json.dumps(row.options)}\tcredentials={json.dumps(row.credentials_masked)}"
                )
        elif options["action"] == "add":
            try:
                provider_options = json.loads(options["options"])
                credentials = (json.loads(Path(options["credentials_file"]).read_text())
                               if options["credentials_file"] else {})
            except (ValueError, OSError) as err:
                raise CommandError(f"cannot read options/credentials: {type(err).__name__}") from err
            try:
                validate_config(options["provider"], options["channel"], provider_options, credentials)
            except NotificationConfigurationError as err:
                raise CommandError(str(err)) from None
            Tenant.ensure([options["tenant_id"]])
            row = ProviderConfig(tenant_id=options["tenant_id"], channel=options["channel"],
                                 provider=options["provider"], priority=options["priority"],
                                 options=provider_options)
            row.credentials = credentials
            row.save()
            self.stdout.write(f"provider {row.pk} added: {row}")
        elif options["action"] == "describe":
            self._describe(options["name"])
        else:
            deleted, _ = ProviderConfig.objects.filter(pk=options["id"]).delete()
            if not deleted:
                raise CommandError(f"no provider {options['id']}")
            self.stdout.write(f"provider {options['id']} removed")

    def _describe(self, name: str | None) -> None:
        """The declarations, read from the provider classes (importing each one's module)."""
        for provider in [name] if name else provider_names():
            try:
                cls = provider_class(provider)
            except NotificationConfigurationError as err:
                raise CommandError(str(err)) from None
            required = set(required_options(cls.options_model))
            self.stdout.write(f"{provider}: channels {', '.join(sorted(str(c) for c in cls.channels))}")
            self.stdout.write("  options: " + ", ".join(
                f"{key}{' (required)' if key in required else ''}" for key in option_names(cls.options_model)))
            self.stdout.write("  credentials: " + (", ".join(
                f"{field.name}{' (required)' if field.required else ''}" for field in cls.credential_fields) or "-"))
