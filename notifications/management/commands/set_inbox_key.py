from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.security import encrypt_text
from notifications.tenants.models import Tenant


class Command(BaseCommand):
    help = ("Set the key that verifies a tenant's end-user inbox tokens: an HS256 secret (stored encrypted) or an "
            "RS256/ES256 public key. A tenant with its own key accepts only tokens signed with it.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id", required=True)
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--generate", action="store_true", help="Generate an HS256 secret; printed once")
        group.add_argument("--secret-file", help="File holding the HS256 secret")
        group.add_argument("--public-key-file", help="PEM public key (RS256 or ES256)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = Tenant.ensure([options["tenant_id"]])[options["tenant_id"]]
        if options["public_key_file"]:
            key = Path(options["public_key_file"]).read_text()
            if "PUBLIC KEY" not in key:
                raise CommandError("the file is not a PEM public key")
            tenant.settings = {**tenant.settings, "inbox_jwt": {"public_key": key}}
            shown = "public key set"
        else:
            if options["generate"]:
                secret = secrets.token_urlsafe(48)
            else:
                secret = Path(options["secret_file"]).read_text().strip()
            if len(secret) < 32:
                raise CommandError("an HS256 secret needs at least 32 characters")
            tenant.settings = {**tenant.settings, "inbox_jwt": {"secret_encrypted": encrypt_text(secret)}}
            shown = "secret set"
            if options["generate"]:
                self.stdout.write(secret)
        tenant.save(update_fields=["settings", "updated_at"])
        self.stderr.write(f"inbox token key of tenant {tenant.id}: {shown}")
