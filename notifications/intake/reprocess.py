"""Operators fix the cause (register a handler, correct a template...) and run rejected events again."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from notifications.events.models import RejectedEvent
from notifications.intake.results import IntakeResult
from notifications.intake.service import process_events
from notifications.security import decrypt_text


def reprocess_rejected(rows: Sequence[RejectedEvent]) -> list[tuple[RejectedEvent, IntakeResult]]:
    if not rows:
        return []
    originals = [decrypt_text(row.original_encrypted) for row in rows]
    results = process_events(originals, source="reprocess")
    now = timezone.now()
    for row, result in zip(rows, results, strict=True):
        row.reprocessed_at = now
        row.reprocess_result = str(result)[:2000]
    RejectedEvent.objects.bulk_update(list(rows), ["reprocessed_at", "reprocess_result"])
    return list(zip(rows, results, strict=True))
