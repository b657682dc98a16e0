"""Cost of `Renderer.render` (the delivery hot path's rendering) for an English and a German recipient, with the
built-in texts: best of N timeit runs per message, over a mix of event types and channels (an e-mail, an SMS, a
push and an in-app message), contexts built once beforehand.

    .venv/bin/python bench/render_locale.py                 # this checkout
    .venv/bin/python bench/render_locale.py --against DIR   # and another checkout (e.g. `git archive` of the
                                                            # commit before), alternately, in the same run

No database is needed (the renderer of a batch without tenant templates makes no query)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIX = [("invoice.payment.failed", "email"), ("user.login.failed", "sms"), ("content.liked", "push"),
       ("task.assigned", "in_app")]


def measure(repeat: int, number: int) -> dict[str, float]:
    """Microseconds per render, best of `repeat` runs of `number` renders of the mix, per recipient locale."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notification_service.settings")
    import django

    django.setup()
    from notifications.enums import Channel
    from notifications.events.examples import EXAMPLE_PAYLOADS
    from notifications.events.registry import event_registry
    from notifications.rendering.context import build_context
    from notifications.rendering.service import Renderer
    from notifications.tenants.models import Tenant

    tenant = Tenant(id="bench", name="Bench")
    renderer = Renderer([])
    results = {}
    for locale in ("en_US", "de_DE"):
        jobs = []
        for event_type, channel in MIX:
            handler = event_registry.handler_for(event_type)
            payload = handler.load_payload(handler.validate_payload(event_type, EXAMPLE_PAYLOADS[event_type]))
            context = build_context(handler, event_type=event_type, payload=payload, tenant=tenant,
                                    contact={"locale": locale})
            jobs.append((handler, event_type, Channel(channel), context))

        def run(jobs=jobs) -> None:
            for handler, event_type, channel, context in jobs:
                renderer.render(handler, event_type, channel, context, "bench")

        run()  # compile
        best = min(timeit.repeat(run, repeat=repeat, number=number))
        results[locale] = best / number / len(MIX) * 1e6
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", help="another checkout to measure alternately with this one")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="measure this process's checkout once, print JSON")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(measure(args.repeat, args.number)))
        return
    trees = {"this": ROOT, **({"against": Path(args.against).resolve()} if args.against else {})}
    best: dict[str, dict[str, float]] = {}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            command = [sys.executable, str(Path(__file__).resolve()), "--json", "--repeat", str(args.repeat),
                       "--number", str(args.number)]
            out = subprocess.run(command, cwd=tree, check=True, capture_output=True, text=True,
                                 env={**os.environ, "PYTHONPATH": str(tree)}).stdout.strip().splitlines()[-1]
            for locale, micros in json.loads(out).items():
                best.setdefault(name, {})[locale] = min(best.get(name, {}).get(locale, 1e9), micros)
    for name, results in best.items():
        print(f"{name:8s} " + "  ".join(f"{locale}: {micros:6.2f} us/render" for locale, micros in results.items()))


if __name__ == "__main__":
    main()
