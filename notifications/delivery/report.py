"""What delivering a batch (or everything due) did: records claimed, sent, to be retried, failed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    def add(self, other: DeliveryReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed

    def __str__(self) -> str:
        return f"claimed={self.claimed} sent={self.sent} retrying={self.retrying} failed={self.failed}"
