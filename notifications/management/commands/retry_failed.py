from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from notifications.channels.spec import intake_channels, provider_channels
from notifications.delivery.models import NotificationRecord
from notifications.delivery.requeue import requeue
from notifications.enums import Status


def _since(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--since {value!r} is not an ISO date or date-time")
        moment = datetime.combine(day, time.min)
    return moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = "Requeue failed notification records (the guide's 'Reprocess failed events')."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id")
        parser.add_argument("--channel", choices=provider_channels())
        parser.add_argument("--event-type")
        parser.add_argument("--reason", help="Only records that failed with this code, e.g. smtp_421")
        parser.add_argument("--since", help="Only records created at or after this ISO date/date-time")
        parser.add_argument("--dry-run", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        query = NotificationRecord.objects.filter(status=Status.FAILED).exclude(channel__in=intake_channels())
        for option, field in (("tenant_id", "tenant_id"), ("channel", "channel"), ("event_type", "event_type"),
                              ("reason", "reason")):
            if options[option]:
                query = query.filter(**{field: options[option]})
        if options["since"]:
            query = query.filter(created_at__gte=_since(options["since"]))
        if options["dry_run"]:
            self.stdout.write(f"{query.count()} failed record(s) would be requeued")
            return
        count = requeue(query)
        self.stdout.write(f"{count} failed record(s) requeued for delivery")
