"""CPU per send of delivery in one process: N events that make records of one channel are taken in, then
`deliver_until_idle()` sends them all in this process, to the local SMTP sink (e-mail, pooled `smtp` provider) or
the local HTTP sink (SMS through the `webhook` provider), in a fresh PostgreSQL database. Prints this process's
CPU time and that of the PostgreSQL server processes (read from /proc, so run it where PostgreSQL is local and
otherwise idle) per send, and sends/s.

    bash scripts/postgres.sh run .venv/bin/python bench/send_cost.py --channel email|sms [N]

Only the delivery is measured: intake's cost is bench/intake_cost.py's."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.intake_cost import postgres_cpu_seconds

TENANT = "bench-send"
# channel -> (provider, event type whose records are of that channel alone when the user has no other address)
CHANNELS = {"email": ("smtp", "user.login.succeeded"), "sms": ("webhook", "user.password.reset.requested")}


def _provider_options(channel: str, port: int) -> dict[str, object]:
    if channel == "email":
        return {"host": "127.0.0.1", "port": port, "start_tls": False, "pool_size": 16}
    return {"url": f"http://127.0.0.1:{port}/send", "max_concurrency": 200}


def _take_in(channel: str, count: int) -> None:
    from notifications.intake.service import process_events
    from notifications.testing.factories import make_event

    event_type = CHANNELS[channel][1]
    for start in range(0, count, 2000):
        batch = []
        for n in range(start, min(start + 2000, count)):
            overrides: dict[str, object] = {"user_id": f"s-{n}", "email": f"s{n}@example.com"}
            if channel == "sms":
                overrides["email"] = None
            batch.append(make_event(event_type, TENANT, **overrides) | {"event_id": f"{channel}-{n}"})
        process_events(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--channel", choices=sorted(CHANNELS), required=True)
    parser.add_argument("count", nargs="?", type=int, default=5000)
    args = parser.parse_args()
    url = common.fresh_database()
    os.environ.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="notification_service.settings", LOG_LEVEL="WARNING")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    from notifications.channels.models import ProviderConfig
    from notifications.delivery.worker import DeliveryEngine, deliver_until_idle
    from notifications.models import NotificationRecord
    from notifications.tenants.models import Tenant

    sink, port = common.start_sink("smtp" if args.channel == "email" else "http")
    try:
        call_command("migrate", verbosity=0)
        Tenant.ensure([TENANT])
        ProviderConfig.objects.create(tenant_id=TENANT, channel=args.channel, provider=CHANNELS[args.channel][0],
                                      options=_provider_options(args.channel, port))
        _take_in(args.channel, args.count)
        pending = NotificationRecord.objects.filter(tenant_id=TENANT, channel=args.channel).count()
        if pending != args.count:
            raise SystemExit(f"expected {args.count} {args.channel} records, intake made {pending}")
        engine = DeliveryEngine(200)
        postgres, python, started = postgres_cpu_seconds(), time.process_time(), time.perf_counter()
        report = deliver_until_idle(engine=engine)
        elapsed = time.perf_counter() - started
        python, postgres = time.process_time() - python, postgres_cpu_seconds() - postgres
        engine.runtime.run(engine.aclose())
        if report.sent != args.count:
            raise SystemExit(f"sent {report.sent} of {args.count}: {report}")
        print(f"{args.channel}: {report.sent} sends: {report.sent / elapsed:,.0f} sends/s in one process; per send: "
              f"Python {1e6 * python / report.sent:.0f} us, PostgreSQL {1e6 * postgres / report.sent:.0f} us, "
              f"wall {1e6 * elapsed / report.sent:.0f} us")
    finally:
        sink.terminate()
        connections.close_all()
        common.drop_database(url)


if __name__ == "__main__":
    main()
