"""Prometheus metrics, defined once. Labels are bounded: event types are registered ones, reasons are enums."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

EVENTS = Counter("notifications_events_total", "Events taken in, by type and outcome", ["event_type", "outcome"])
REJECTIONS = Counter("notifications_events_rejected_total", "Events rejected, by reason", ["reason"])
RECORDS_CREATED = Counter(
    "notifications_records_created_total", "Notification records created, by channel and initial status",
    ["channel", "status"],
)
DELIVERIES = Counter(
    "notifications_deliveries_total", "Delivery attempts, by channel, provider and outcome",
    ["channel", "provider", "outcome"],
)
SEND_SECONDS = Histogram(
    "notifications_send_seconds", "Time to hand one notification to its provider", ["channel", "provider"]
)
INTAKE_BATCH_SECONDS = Histogram("notifications_intake_batch_seconds", "Duration of one intake batch")
DELIVERY_LATENCY = Histogram(
    "notifications_delivery_latency_seconds", "From record creation to the provider's acceptance", ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600),
)
