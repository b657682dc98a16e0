"""`manage.py export_history --tenant-id T --since ISO --until ISO --format jsonl|csv|parquet [--out FILE]`: a
tenant's events, their records and every attempt, secrets masked (notifications/history). JSON Lines and CSV go
to standard output unless --out names a file; Parquet needs --out. A progress bar (events) on standard error."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from notifications.history.export import ExportQuery, export_rows
from notifications.history.formats import FORMATS, PARQUET, stream, write_parquet
from notifications.utils.moments import command_moment
from notifications.utils.progress import ProgressBar


class Command(BaseCommand):
    help = "Export a tenant's history (events, records, attempts; secrets masked) as JSON Lines, CSV or Parquet."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant-id", required=True)
        parser.add_argument("--since", required=True, help="Events received at or after (ISO 8601, with offset)")
        parser.add_argument("--until", required=True, help="Events received before (ISO 8601, with offset)")
        parser.add_argument("--format", choices=FORMATS, default="jsonl")
        parser.add_argument("--event-type", action="append", default=[], help="Only this type (repeatable)")
        parser.add_argument("--out", help="The file to write (standard output for jsonl and csv without it)")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar on standard error")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            query = ExportQuery(options["tenant_id"], command_moment(options["since"], "since"),
                                command_moment(options["until"], "until"), tuple(options["event_type"]))
        except ValueError as err:
            raise CommandError(str(err)) from err
        fmt, out = options["format"], options["out"]
        if fmt == PARQUET and not out:
            raise CommandError("--format parquet needs --out FILE (Parquet writes its index at the end)")
        bar = None
        if not options["no_progress"]:
            def write(text: str) -> None:
                self.stderr.write(text, style_func=lambda same: same, ending="")
                self.stderr.flush()
            bar = ProgressBar(write, tty=self.stderr.isatty(), total=query.count(), unit="events",
                              prefix="export ")
        rows = export_rows(query, progress=bar.update if bar is not None else None)
        try:
            written = write_parquet(rows, str(out)) if fmt == PARQUET else self._stream(rows, fmt, out)
        except ImportError as err:
            raise CommandError(str(err)) from err
        if bar is not None:
            bar.finish()
        if out:
            self.stderr.write(f"{written:,} rows written to {out}")

    def _stream(self, rows: Any, fmt: str, out: str | None) -> int:
        count = 0

        def counted() -> Any:
            nonlocal count
            for row in rows:
                count += 1
                yield row

        target = Path(out).open("wb") if out else sys.stdout.buffer  # noqa: SIM115 - closed below when a file
        try:
            for piece in stream(counted(), fmt):
                target.write(piece)
        finally:
            if out:
                target.close()
            else:
                target.flush()
        return count
