from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.utils import DatabaseError

from notifications.channels.models import ProviderConfig
from notifications.channels.provider_config import config_problems
from notifications.conf import get_setting
from notifications.events.configured import class_path, configured_handlers, runtime_only
from notifications.events.registry import event_registry
from notifications.kafka.config import kafka_configured
from notifications.rendering.models import NotificationTemplate
from notifications.tenant_types.checks import shadowed_definitions


class Command(BaseCommand):
    help = ("Answer the guide's troubleshooting list in one go: database, Kafka and topics, handlers, templates, "
            "providers.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id", help="Check only this tenant's templates and providers")

    def handle(self, *args: Any, **options: Any) -> None:
        self.problems = 0
        self.warnings = 0
        self._database()
        self._kafka()
        self._handlers()
        self._templates(options["tenant_id"])
        self._providers(options["tenant_id"])
        if self.problems:
            raise CommandError(f"{self.problems} problem(s) found")
        warned = f" ({self.warnings} warning(s))" if self.warnings else ""
        self.stdout.write(self.style.SUCCESS(f"all checks passed{warned}"))

    def ok(self, text: str) -> None:
        self.stdout.write(f"OK      {text}")

    def bad(self, text: str) -> None:
        self.problems += 1
        self.stdout.write(self.style.ERROR(f"PROBLEM {text}"))

    def warn(self, text: str) -> None:
        """Works here, but not in every process: not a problem of this process, so the exit code stays 0."""
        self.warnings += 1
        self.stdout.write(self.style.WARNING(f"WARNING {text}"))

    def note(self, text: str) -> None:
        self.stdout.write(f"NOTE    {text}")

    def _database(self) -> None:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            self.ok(f"database reachable ({connection.vendor})")
        except DatabaseError as err:
            self.bad(f"database unreachable: {type(err).__name__}: {err}")

    def _kafka(self) -> None:
        if not kafka_configured():
            self.note("KAFKA_BOOTSTRAP_SERVERS is not set: events come in through the API and publish_event only")
            return
        from confluent_kafka.admin import AdminClient

        from notifications.kafka.config import bootstrap_servers, client_config

        try:
            metadata = AdminClient(client_config()).list_topics(timeout=5)
        except Exception as err:  # noqa: BLE001 - reported, not raised
            self.bad(f"Kafka at {bootstrap_servers()} unreachable: {type(err).__name__}")
            return
        self.ok(f"Kafka reachable at {bootstrap_servers()} ({len(metadata.brokers)} broker(s))")
        for topic in [*get_setting("KAFKA_TOPICS"), get_setting("KAFKA_DEAD_LETTER_TOPIC")]:
            if topic in metadata.topics:
                self.ok(f"topic {topic} exists ({len(metadata.topics[topic].partitions)} partitions)")
            else:
                self.bad(f"topic {topic} is missing (manage.py kafka_topics, or KAFKA_CREATE_TOPICS=true)")

    def _handlers(self) -> None:
        types = event_registry.event_types
        if types:
            self.ok(f"{len(types)} event types have a handler: {', '.join(types)}")
        else:
            self.bad("no event handlers registered")
        configured = configured_handlers(event_registry)
        if configured:
            self.ok(f'{len(configured)} handler(s) from NOTIFICATIONS["HANDLERS"]: ' + ", ".join(
                f"{class_path(type(h))} ({', '.join(event_registry.types_of(h)) or 'by can_handle()'})"
                for h in configured))
        for found in runtime_only(event_registry):
            self.warn(found.warning)
        for clash in shadowed_definitions(event_registry):
            self.warn(clash)

    def _templates(self, tenant_id: str | None) -> None:
        query = NotificationTemplate.objects.filter(is_active=True)
        if tenant_id:
            query = query.filter(tenant_id=tenant_id)
        checked = 0
        for template in query:
            checked += 1
            try:
                template.clean()
            except Exception as err:  # noqa: BLE001 - ValidationError, or a handler that went away
                messages = getattr(err, "messages", [str(err)])
                locale = f"[{template.locale}]" if template.locale else ""
                self.bad(f"template {template.tenant_id}/{template.name}{locale}: {'; '.join(messages)}")
        self.ok(f"{checked} active template(s) checked")

    def _providers(self, tenant_id: str | None) -> None:
        query = ProviderConfig.objects.filter(enabled=True)
        if tenant_id:
            query = query.filter(tenant_id=tenant_id)
        for row in query:
            try:
                credentials = row.credentials
            except Exception as err:  # noqa: BLE001 - a key that cannot decrypt them
                self.bad(f"provider {row.pk} of {row.tenant_id}: credentials unreadable ({type(err).__name__})")
                continue
            # The provider's own declaration says what it needs (channels, options model, credential fields).
            problems = config_problems(row.provider, row.channel, row.options, credentials)
            if problems:
                self.bad(f"provider {row.pk} ({row.provider}) of {row.tenant_id}: "
                         f"{'; '.join(message for _, message in problems)}")
            else:
                self.ok(f"provider {row.pk} ({row.provider}, {row.channel}) of {row.tenant_id} configured")
        if not query.exists():
            if get_setting("DEV_PROVIDERS", False):
                self.note("no tenant providers: e-mail uses EMAIL_BACKEND, SMS and push the development log provider")
            else:
                self.bad("no SMS or push provider configured for any tenant (manage.py providers add ...): "
                         "those notifications wait as 'retrying' with no_provider")

