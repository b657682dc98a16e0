"""Gauges read from the database at scrape time: records by channel and status, the inbox backlog."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db.models import Count
from django.db.utils import DatabaseError
from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector


class RecordsCollector(Collector):
    def describe(self) -> Iterator[GaugeMetricFamily]:
        """What registering reads instead of collect(): without it, prometheus_client collects at registration,
        a database query at import time (the URLconf's, which an ASGI server first imports inside its event
        loop, where Django refuses queries: SynchronousOnlyOperation on the first request)."""
        yield GaugeMetricFamily("notifications_records", "Notification records by channel and status",
                                labels=["channel", "status"])

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from notifications.delivery.models import NotificationRecord

        family = GaugeMetricFamily("notifications_records", "Notification records by channel and status",
                                   labels=["channel", "status"])
        try:
            rows = NotificationRecord.objects.values("channel", "status").annotate(n=Count("id")).order_by()
            for row in rows:
                family.add_metric([row["channel"], row["status"]], row["n"])
        except DatabaseError:
            return
        yield family


with contextlib.suppress(ValueError):  # already registered (module reloaded)
    REGISTRY.register(RecordsCollector())
