"""The retry rule, in one place: how many attempts a channel gets, how long to wait before the next one
(exponential backoff with jitter, a provider's Retry-After as a floor), how long a claim's lease lasts, and what
one send's result makes of its record (sent; failed for good when the failure is permanent or the attempts are
used up; otherwise retrying later). Whether a failure is permanent or transient is the provider's word
(`channels.base.permanent` / `transient`); the engine's own: an unrenderable record and a purged secret are
permanent, no provider configured, an open circuit and a provider that raised are transient."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from notifications.channels.base import FailureKind, SendResult, Sent
from notifications.channels.spec import CHANNEL_SPECS
from notifications.conf import get_setting
from notifications.enums import Status
from notifications.observability import metrics

if TYPE_CHECKING:
    from notifications.delivery.batch import Record

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # DELIVERY_LEASE_SECONDS' default
BACKOFF_CAP_SECONDS = 6 * 3600.0
JITTER = (0.8, 1.2)


def max_attempts(channel: str) -> int:
    """MAX_ATTEMPTS_BY_CHANNEL[channel], else the channel spec's max_attempts, else MAX_ATTEMPTS (5)."""
    per_channel = get_setting("MAX_ATTEMPTS_BY_CHANNEL", {}) or {}
    if channel in per_channel:
        return int(per_channel[channel])
    spec = CHANNEL_SPECS.get(channel)
    if spec is not None and spec.max_attempts is not None:
        return spec.max_attempts
    return int(get_setting("MAX_ATTEMPTS", 5))


def backoff_seconds(attempts: int, retry_after: float | None = None) -> float:
    """Exponential backoff with +-20% jitter, capped at 6 hours; a provider's Retry-After is a floor."""
    base = float(get_setting("RETRY_BASE_SECONDS", 30.0))
    delay = min(base * (2.0 ** min(max(attempts - 1, 0), 30)), BACKOFF_CAP_SECONDS) * random.uniform(*JITTER)  # noqa: S311 - jitter, not a secret
    floor = retry_after if retry_after is not None and 0 <= retry_after < 86400 * 7 else 0.0
    return max(delay, floor)


def lease_duration() -> timedelta:
    return timedelta(seconds=float(get_setting("DELIVERY_LEASE_SECONDS", LEASE.total_seconds())))


def apply_outcome(record: Record, result: SendResult, sender: str, now: datetime) -> None:
    """What one send's `result` (by provider `sender`, "" if none was tried) makes of its record."""
    record.attempts += 1
    record.provider = sender or record.provider
    record.updated_at = now
    if isinstance(result, Sent):
        _latency(record.channel).observe(max((now - record.created_at).total_seconds(), 0))
        record.status, record.reason, record.error_detail = Status.SENT, "", ""
        record.provider_message_id = result.provider_message_id[:255]
        record.sent_at, record.next_attempt_at = now, None
        return
    record.reason, record.error_detail = result.code[:64], result.detail[:2000]
    if result.kind == FailureKind.PERMANENT or record.attempts >= max_attempts(record.channel):
        record.status, record.next_attempt_at = Status.FAILED, None
        logger.warning(
            "delivery failed: tenant_id=%s record_id=%s channel=%s provider=%s error_code=%s attempts=%d",
            record.tenant_id, record.pk, record.channel, record.provider, result.code, record.attempts,
        )
    else:
        record.status = Status.RETRYING
        record.next_attempt_at = now + timedelta(seconds=backoff_seconds(record.attempts, result.retry_after))
        logger.info(
            "delivery will be retried: tenant_id=%s record_id=%s channel=%s error_code=%s attempt=%d next=%s",
            record.tenant_id, record.pk, record.channel, result.code, record.attempts,
            record.next_attempt_at.isoformat(),
        )


@cache
def _latency(channel: str) -> Any:
    """The latency histogram of a channel: labels() takes a lock and a lookup each call."""
    return metrics.DELIVERY_LATENCY.labels(channel)
