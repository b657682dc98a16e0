from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from notifications.channels.models import ProviderConfig
from notifications.events.models import Event, RejectedEvent
from notifications.security.crypto import ENCRYPTED_MARKER, rotate_text


class Command(BaseCommand):
    help = ("Re-encrypt every stored secret with the newest key of NOTIFICATIONS_ENCRYPTION_KEYS. Run it after "
            "prepending a new key; then the old keys can be removed.")

    def handle(self, *args: Any, **options: Any) -> None:
        counts = {"providers": 0, "events": 0, "rejected": 0}
        with transaction.atomic():
            for row in ProviderConfig.objects.select_for_update().exclude(credentials_encrypted=""):
                row.credentials_encrypted = rotate_text(row.credentials_encrypted)
                row.save(update_fields=["credentials_encrypted"])
                counts["providers"] += 1
            # Locked, so a worker purging an event meanwhile cannot have its purge undone by this rewrite.
            for event in Event.objects.select_for_update().iterator(chunk_size=1000):
                sealed = {key: value for key, value in event.payload.items()
                          if isinstance(value, dict) and set(value) == {ENCRYPTED_MARKER}}
                if sealed:
                    for key, value in sealed.items():
                        event.payload[key] = {ENCRYPTED_MARKER: rotate_text(value[ENCRYPTED_MARKER])}
                    Event.objects.filter(pk=event.pk).update(payload=event.payload)
                    counts["events"] += 1
            for rejected in RejectedEvent.objects.exclude(original_encrypted="").iterator(chunk_size=1000):
                RejectedEvent.objects.filter(pk=rejected.pk).update(
                    original_encrypted=rotate_text(rejected.original_encrypted)
                )
                counts["rejected"] += 1
        self.stdout.write("re-encrypted: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
