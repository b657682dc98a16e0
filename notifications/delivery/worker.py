"""Compatibility: the names the delivery worker module held before it was split by concern. New code imports
from the part that holds each name: engine (DeliveryEngine, deliver_due, deliver_until_idle, default_engine),
loop (DeliveryLoop, ClaimSizer), claims, policy, dispatch, store, batch, housekeeping, report."""

from __future__ import annotations

from notifications.delivery.batch import Batch as _Batch
from notifications.delivery.batch import Record as _Record
from notifications.delivery.claims import (
    CLAIM_PLAN_SETTINGS,
    RESTORE_PLAN_SETTINGS,
    claim_due,
    claim_statement,
    due_records,
    renew_lease,
)
from notifications.delivery.compose import message_for
from notifications.delivery.engine import (
    DeliveryEngine,
    default_engine,
    deliver_due,
    deliver_until_idle,
    reset_default_engine,
)
from notifications.delivery.loop import ClaimSizer, DeliveryLoop
from notifications.delivery.policy import LEASE, backoff_seconds, lease_duration, max_attempts
from notifications.delivery.report import DeliveryReport
from notifications.delivery.store import ATTEMPT_FIELDS, OUTCOME_FIELDS

__all__ = [
    "ATTEMPT_FIELDS", "CLAIM_PLAN_SETTINGS", "LEASE", "OUTCOME_FIELDS", "RESTORE_PLAN_SETTINGS", "ClaimSizer",
    "DeliveryEngine", "DeliveryLoop", "DeliveryReport", "_Batch", "_Record", "backoff_seconds", "claim_due",
    "claim_statement", "default_engine", "deliver_due", "deliver_until_idle", "due_records", "lease_duration",
    "max_attempts", "message_for", "renew_lease", "reset_default_engine",
]
