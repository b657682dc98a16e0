"""The scheduled workloads of `make bench` (issue 17): notifications written `scheduled` and sent by the workers
when due, SMS through the webhook provider to the local HTTP sink.

- Burst: 100,000 notifications due in the same second. They are taken in scheduled ten minutes ahead, then one
  UPDATE moves every due time to the same instant a few seconds ahead, while `run_delivery_worker` (N
  processes) waits idle: the measure is how long after that instant the last one is sent (target: 30 s).
- Steady: for `seconds`, 1,000 events a second taken in (in this process, batches of 100 every 100 ms), each
  due 3 s after it was taken in; lateness = sent_at - due time, per record (target: p99 at most 1 s)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import common
from bench.harness import manage as _manage
from bench.harness import record
from bench.harness import stop as _stop

TENANT = "bench-sched"
EVENT_TYPE = "invoice.payment.failed"  # not a security notification: it may be delayed; SMS only without e-mail


def _event(n: int, deliver_at: datetime) -> dict[str, Any]:
    from notifications.testing.factories import make_event

    event = make_event(EVENT_TYPE, TENANT, user_id=f"s-{n % 5000}", email=None, phone="+14155550123",
                       invoice_id=f"INV-{n}")
    return event | {"event_id": f"sched-{n}", "deliver_at": deliver_at.isoformat()}


def _sent() -> int:
    from notifications.models import NotificationRecord

    return NotificationRecord.objects.filter(tenant_id=TENANT, channel="sms", status="sent").count()


def _wait_until_sent(count: int, worker: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _sent() < count:
        if worker.poll() is not None:
            raise SystemExit(f"the worker exited with {worker.returncode}")
        if time.monotonic() > deadline:
            raise SystemExit(f"scheduled: only {_sent()} of {count} sent after {timeout:.0f} s")
        time.sleep(0.25)


def bench_scheduled(burst: int, steady_rate: int, seconds: int, processes: int) -> None:
    from django.db import connection

    from notifications.channels.models import ProviderConfig
    from notifications.intake.service import process_events
    from notifications.models import NotificationRecord
    from notifications.tenants.models import Tenant

    sink, port = common.start_http_sink()
    worker = None
    try:
        Tenant.ensure([TENANT])
        ProviderConfig.objects.create(tenant_id=TENANT, channel="sms", provider="webhook",
                                      options={"url": f"http://127.0.0.1:{port}/send", "max_concurrency": 200})
        later = datetime.now(UTC) + timedelta(minutes=10)
        for start in range(0, burst, 2000):
            process_events([_event(n, later) for n in range(start, min(start + 2000, burst))])
        worker = _manage("run_delivery_worker", "--processes", str(processes), "--concurrency", "200")
        time.sleep(5)  # the workers started and idle, waiting for the first due time
        due = datetime.now(UTC) + timedelta(seconds=3)
        with connection.cursor() as cursor:
            cursor.execute("UPDATE notifications_notificationrecord SET next_attempt_at = %s "
                           "WHERE tenant_id = %s AND status = 'scheduled'", [due, TENANT])
        _wait_until_sent(burst, worker, 600)
        last = NotificationRecord.objects.filter(tenant_id=TENANT, status="sent").order_by("-sent_at").first()
        after = (last.sent_at - due).total_seconds() if last and last.sent_at else float("nan")
        record("scheduled: burst due at once, last sent after", after, "s", None,
               f"{burst:,} SMS due in the same second, {processes} worker processes idle until then")

        # Steady: `steady_rate` a second, each due 3 s after intake.
        NotificationRecord.objects.filter(tenant_id=TENANT).delete()
        due_at: dict[str, datetime] = {}
        step = max(steady_rate // 10, 1)
        n = burst
        started = time.monotonic()
        for tick in range(seconds * 10):
            while time.monotonic() < started + tick / 10:
                time.sleep(0.005)
            deliver_at = datetime.now(UTC) + timedelta(seconds=3)
            batch = [_event(n + i, deliver_at) for i in range(step)]
            for event in batch:
                due_at[event["event_id"]] = deliver_at
            process_events(batch)
            n += step
        _wait_until_sent(len(due_at), worker, 120)
        rows = NotificationRecord.objects.filter(tenant_id=TENANT, status="sent").values_list(
            "event__event_id", "sent_at")
        lateness = sorted((sent - due_at[event_id]).total_seconds() for event_id, sent in rows)
        p50, p99 = lateness[len(lateness) // 2], lateness[int(len(lateness) * 0.99) - 1]
        record("scheduled: steady 1,000/s, lateness p99", p99 * 1000, "ms", None,
               f"{len(lateness):,} SMS each due 3 s after intake, {steady_rate}/s for {seconds} s; p50 "
               f"{p50 * 1000:.0f} ms, max {lateness[-1] * 1000:.0f} ms (sent_at - due time)")
    finally:
        if worker is not None:
            _stop(worker)
        sink.terminate()
