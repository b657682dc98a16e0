"""`manage.py event_schemas --out DIR`: the producer contracts (notifications/events/contracts.py) as files a producer
team can keep under version control: `envelope.schema.json` and one `<event type>.schema.json` per event type
(its payload's schema, with `x-channels`, `x-critical` and the example payload under `examples`). Sorted keys,
two-space indents and a trailing newline, so the same contracts always write the same bytes. `--tenant-id T`
adds tenant T's own event types (notifications/tenant_types) and writes T's id into the examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from notifications.events.contracts import EXAMPLE_TENANT, envelope_schema, event_type_contracts


def schema_file_text(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def type_schema(contract: dict[str, Any]) -> dict[str, Any]:
    """An event type's file: its payload schema, annotated (JSON Schema ignores `x-` keywords)."""
    return {
        **contract["payload_schema"],
        "x-event-type": contract["name"],
        "x-source": contract["source"],
        "x-channels": contract["channels"],
        "x-critical": contract["critical"],
        "x-mandatory": contract["mandatory"],
        "x-sensitive-fields": contract["sensitive_fields"],
        "examples": [contract["example"]["payload"]],
    }


class Command(BaseCommand):
    help = "Write the JSON Schema of the event envelope and of each event type's payload into a directory."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="The directory (made if missing); files are overwritten")
        parser.add_argument("--tenant-id", default="", help="Also this tenant's own event types")

    def handle(self, *args: Any, **options: Any) -> None:
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        files = {"envelope.schema.json": envelope_schema()}
        for contract in event_type_contracts(options.get("tenant_id") or EXAMPLE_TENANT):
            files[f"{contract['name']}.schema.json"] = type_schema(contract)
        for name, schema in files.items():
            path = out / name
            path.write_text(schema_file_text(schema), encoding="utf-8")
            self.stdout.write(f"wrote {path}")
        self.stdout.write(f"{len(files)} schema files in {out}")
