"""`manage.py replay --tenant-id T (--since ISO [--until ISO] | --event-id ID ...) [--event-type TYPE ...]
[--templates DRAFTS.json] [--live [--key KEY]]`: replay stored events (notifications/history/replay.py). A dry run
(the default) prints what would go out, per channel and outcome, and what differs from what happened; `--live`
takes them through intake again under replay keys. DRAFTS.json: [{"name", "channel", "content"}, ...]."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.history.replay import DEFAULT_SAMPLE, KEY, ReplayError, ReplayQuery, replay
from notifications.rendering.models import NotificationTemplate
from notifications.rendering.validation import validate_template
from notifications.utils.moments import command_moment


class Command(BaseCommand):
    help = "Replay stored events: a dry run with draft templates (default), or live through intake."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id", required=True)
        parser.add_argument("--since")
        parser.add_argument("--until")
        parser.add_argument("--event-id", action="append", default=[])
        parser.add_argument("--event-type", action="append", default=[])
        parser.add_argument("--templates", help="A JSON file of draft templates (dry runs only)")
        parser.add_argument("--live", action="store_true", help="Take the events through intake again")
        parser.add_argument("--key", default="", help="The replay's key (live): the same key never sends twice")
        parser.add_argument("--sample", type=int, default=DEFAULT_SAMPLE)

    def handle(self, *args: Any, **options: Any) -> None:
        if not KEY.fullmatch(options["key"]):
            raise CommandError("--key: at most 64 letters, digits, '.', '_' or '-'")
        for value in options["event_id"]:
            try:
                uuid.UUID(value)
            except ValueError as err:
                raise CommandError(f"--event-id {value!r} is not an event id (a UUID)") from err
        drafts = self._drafts(options["tenant_id"], options["templates"])
        since, until = (command_moment(options[name], name) if options[name] else None for name in ("since", "until"))
        query = ReplayQuery(options["tenant_id"], since, until, tuple(options["event_id"]),
                            tuple(options["event_type"]))
        try:
            summary = replay(query, drafts=drafts, live=options["live"], key=options["key"],
                             sample=options["sample"])
        except ReplayError as err:
            raise CommandError(str(err)) from err
        self.stdout.write(json.dumps(summary.as_dict(), indent=2, default=str, ensure_ascii=False))

    def _drafts(self, tenant_id: str, path: str | None) -> dict[str, dict[str, str]]:
        if not path:
            return {}
        try:
            entries = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise CommandError(f"--templates {path}: {err}") from err
        if not isinstance(entries, list):
            raise CommandError("--templates must hold a list of {name, channel, content}")
        drafts = {}
        for number, entry in enumerate(entries):
            if not isinstance(entry, dict):
                raise CommandError(f"--templates[{number}] must be an object with name, channel and content")
            template = NotificationTemplate(tenant_id=tenant_id, name=str(entry.get("name", "")),
                                            channel=str(entry.get("channel", "")), content=entry.get("content"))
            try:
                validate_template(template)
            except ValidationError as err:
                raise CommandError(f"--templates[{number}] ({template.name}): {'; '.join(err.messages)}") from err
            drafts[template.name] = dict(template.content)
        return drafts
