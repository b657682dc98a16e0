"""What intake says about each event: printable, and plain data for the API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from notifications.enums import Outcome, RejectionReason


@dataclass(frozen=True)
class RecordSummary:
    channel: str
    status: str
    reason: str = ""
    record_id: int | None = None

    def __str__(self) -> str:
        return f"{self.channel}={self.status}" + (f" ({self.reason})" if self.reason else "")


@dataclass(frozen=True)
class IntakeResult:
    outcome: Outcome
    event_type: str = ""
    tenant_id: str = ""
    event_id: str = ""  # our archive id (UUID) for processed events, the original's for duplicates
    reason: RejectionReason | None = None
    detail: str = ""
    records: tuple[RecordSummary, ...] = field(default_factory=tuple)
    rejected_id: int | None = None
    fanout_id: int | None = None  # an audience event's fan-out (notifications/audiences), written by a runner

    @property
    def ok(self) -> bool:
        return self.outcome != Outcome.REJECTED

    def __str__(self) -> str:
        if self.outcome == Outcome.REJECTED:
            reason = self.reason.value if self.reason else "rejected"
            return f"rejected ({reason}): {self.detail}"
        if self.outcome == Outcome.DUPLICATE:
            return (f"duplicate: {self.event_type} for tenant {self.tenant_id} was already processed "
                    f"(event {self.event_id})")
        if self.fanout_id is not None:
            return (f"processed {self.event_type} for tenant {self.tenant_id} (event {self.event_id}): fan-out "
                    f"{self.fanout_id} recorded")
        records = ", ".join(str(record) for record in self.records) or "no notifications"
        return f"processed {self.event_type} for tenant {self.tenant_id} (event {self.event_id}): {records}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "event_type": self.event_type,
            "tenant_id": self.tenant_id,
            "event_id": self.event_id,
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "records": [
                {"id": r.record_id, "channel": r.channel, "status": r.status, "reason": r.reason} for r in self.records
            ],
            **({"fanout_id": self.fanout_id} if self.fanout_id is not None else {}),
        }
