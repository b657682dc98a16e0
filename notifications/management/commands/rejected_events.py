from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.events.models import RejectedEvent
from notifications.intake.reprocess import reprocess_rejected


class Command(BaseCommand):
    help = "List, show and reprocess rejected events (intake's dead letters)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        listing = sub.add_parser("list")
        listing.add_argument("--tenant-id")
        listing.add_argument("--reason")
        listing.add_argument("--limit", type=int, default=50)
        listing.add_argument("--pending", action="store_true", help="Only those not reprocessed yet")
        show = sub.add_parser("show")
        show.add_argument("id", type=int)
        again = sub.add_parser("reprocess")
        again.add_argument("ids", type=int, nargs="*")
        again.add_argument("--all", action="store_true", help="Every rejected event not reprocessed yet")
        again.add_argument("--tenant-id")
        again.add_argument("--reason")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            query = RejectedEvent.objects.all()
            if options["tenant_id"]:
                query = query.filter(tenant_id=options["tenant_id"])
            if options["reason"]:
                query = query.filter(reason=options["reason"])
            if options["pending"]:
                query = query.filter(reprocessed_at__isnull=True)
            for row in query[: options["limit"]]:
                state = "reprocessed" if row.reprocessed_at else "pending"
                self.stdout.write(
                    f"{row.pk}\t{row.created_at:%Y-%m-%d %H:%M:%S}\t{row.reason}\t{row.tenant_id or '-'}\t"
                    f"{row.event_type or '-'}\t{state}\t{row.detail}"
                )
        elif action == "show":
            shown = RejectedEvent.objects.filter(pk=options["id"]).first()
            if shown is None:
                raise CommandError(f"no rejected event {options['id']}")
            self.stdout.write(f"reason: {shown.reason}\ndetail: {shown.detail}\nsource: {shown.source}\n"
                              f"origin: {shown.origin}\noriginal (redacted): {shown.original_redacted}")
        else:
            query = RejectedEvent.objects.filter(reprocessed_at__isnull=True)
            if options["ids"]:
                query = RejectedEvent.objects.filter(pk__in=options["ids"])
            elif not options["all"]:
                raise CommandError("name rejected event ids, or pass --all")
            if options["tenant_id"]:
                query = query.filter(tenant_id=options["tenant_id"])
            if options["reason"]:
                query = query.filter(reason=options["reason"])
            for row, result in reprocess_rejected(list(query)):
                self.stdout.write(f"{row.pk}: {result}")
