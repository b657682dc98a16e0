from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.channels.models import ProviderConfig
from notifications.channels.registry import PROVIDERS, provider_class
from notifications.tenants.models import Tenant


class Command(BaseCommand):
    help = "List, add and remove a tenant's delivery providers. Credentials are stored encrypted, never shown."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("--tenant-id")
        add = sub.add_parser("add")
        add.add_argument("--tenant-id", required=True)
        add.add_argument("--channel", required=True, choices=["email", "sms", "push"])
        add.add_argument("--provider", required=True, choices=sorted(PROVIDERS))
        add.add_argument("--priority", type=int, default=0, help="Lower is tried first")
        add.add_argument("--options", default="{}", help="JSON object of non-secret settings")
        add.add_argument("--credentials-file", help="JSON file with the secrets (read, encrypted, not echoed)")
        remove = sub.add_parser("remove")
        remove.add_argument("id", type=int)

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
            provider_class(options["provider"])
            try:
                provider_options = json.loads(options["options"])
                credentials = (json.loads(Path(options["credentials_file"]).read_text())
                               if options["credentials_file"] else {})
            except (ValueError, OSError) as err:
                raise CommandError(f"cannot read options/credentials: {type(err).__name__}") from err
            Tenant.ensure([options["tenant_id"]])
            row = ProviderConfig(tenant_id=options["tenant_id"], channel=options["channel"],
                                 provider=options["provider"], priority=options["priority"],
                                 options=provider_options)
            row.credentials = credentials
            row.save()
            self.stdout.write(f"provider {row.pk} added: {row}")
        else:
            deleted, _ = ProviderConfig.objects.filter(pk=options["id"]).delete()
            if not deleted:
                raise CommandError(f"no provider {options['id']}")
            self.stdout.write(f"provider {options['id']} removed")
