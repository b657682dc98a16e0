"""manage.py export_history: the formats to a file or standard output, the progress bar, clear errors."""

from __future__ import annotations

import io

import orjson
import pytest
from django.core.management import CommandError, call_command

from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db

RANGE = ["--since", "2000-01-01T00:00:00Z", "--until", "2100-01-01T00:00:00Z"]


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_history", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_jsonl_to_a_file_with_a_progress_bar(tenant, tmp_path):
    event_registry.process_events([make_event("user.login.succeeded"), make_event("auth.2fa.code.requested",
                                                                                  code="552211")])
    path = tmp_path / "h.jsonl"
    _, err = _run("--tenant-id", "acme", *RANGE, "--out", str(path))
    rows = [orjson.loads(line) for line in path.read_bytes().splitlines()]
    assert [row["kind"] for row in rows].count("event") == 2
    assert b"552211" not in path.read_bytes()
    assert "100% 2/2 events" in err and f"{len(rows):,} rows written to {path}" in err


def test_csv_and_parquet_files(tenant, tmp_path):
    event_registry.process_event(make_event("task.assigned"))
    _run("--tenant-id", "acme", *RANGE, "--format", "csv", "--out", str(tmp_path / "h.csv"), "--no-progress")
    assert (tmp_path / "h.csv").read_text().startswith("kind,tenant_id,event,")
    pq = pytest.importorskip("pyarrow.parquet")
    _, err = _run("--tenant-id", "acme", *RANGE, "--format", "parquet", "--out", str(tmp_path / "h.parquet"))
    assert pq.read_table(tmp_path / "h.parquet").num_rows >= 2 and "rows written" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--since", "yesterday", "--until", "2100-01-01T00:00:00Z"], "--since must be an ISO 8601"),
    (["--since", "2026-01-01T00:00:00", "--until", "2100-01-01T00:00:00Z"], "time zone offset"),
    (["--since", "2100-01-01T00:00:00Z", "--until", "2000-01-01T00:00:00Z"], "since must be before until"),
    ([*RANGE, "--format", "parquet"], "needs --out"),
])
def test_bad_arguments_are_refused_with_the_reason(db, args, message):
    with pytest.raises(CommandError, match=message):
        _run("--tenant-id", "acme", *args)
