"""history.formats: each format reads back as the rows written; pieces of bounded size."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import orjson
import pytest

from notifications.history.export import COLUMNS
from notifications.history.formats import PIECE, stream, write_parquet

WHEN = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)
ROWS = [
    {"kind": "event", "tenant_id": "acme", "event": "e-1", "event_type": "task.assigned", "event_id": "",
     "user_id": "u-1", "occurred_at": WHEN, "received_at": WHEN, "source": "api",
     "payload": {"title": "Ünïcode, \"quoted\"\nnew line", "n": 3}, "metadata": {}},
    {"kind": "record", "tenant_id": "acme", "event": "e-1", "record": "7", "channel": "email", "status": "sent",
     "attempts": 1, "created_at": WHEN, "sent_at": None, "error_detail": ""},
    {"kind": "attempt", "tenant_id": "acme", "record": "7", "provider": "smtp", "started_at": WHEN,
     "duration_ms": 12, "outcome": "sent", "error_code": ""},
]


def test_jsonl_reads_back_row_by_row():
    lines = b"".join(stream(ROWS, "jsonl")).splitlines()
    assert [orjson.loads(line)["kind"] for line in lines] == ["event", "record", "attempt"]
    first = orjson.loads(lines[0])
    assert first["payload"] == ROWS[0]["payload"] and first["occurred_at"] == "2026-12-01T08:30:15.123456Z"


def test_csv_has_the_union_header_and_json_text_for_objects():
    text = b"".join(stream(ROWS, "csv")).decode()
    table = list(csv.DictReader(io.StringIO(text)))
    assert tuple(table[0]) == COLUMNS
    assert [row["kind"] for row in table] == ["event", "record", "attempt"]
    assert orjson.loads(table[0]["payload"]) == ROWS[0]["payload"]
    assert table[1]["sent_at"] == "" and table[2]["duration_ms"] == "12"
    assert table[0]["received_at"] == WHEN.isoformat()


def test_pieces_stay_about_the_piece_size():
    many = [ROWS[0]] * 2000
    pieces = list(stream(many, "jsonl"))
    assert len(pieces) > 2
    assert all(len(piece) < PIECE + 1024 for piece in pieces)


def test_streaming_parquet_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="to stream"):
        list(stream(ROWS, "parquet"))


def test_parquet_reads_back_typed(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "h.parquet"
    assert write_parquet(iter(ROWS * 7000), str(path)) == 21000
    table = pq.read_table(path)
    assert table.num_rows == 21000 and tuple(table.column_names) == COLUMNS
    assert pq.ParquetFile(path).num_row_groups == 3  # row groups of 10,000: what the writer holds at once
    first = table.slice(0, 3).to_pylist()
    assert first[0]["occurred_at"] == WHEN and orjson.loads(first[0]["payload"]) == ROWS[0]["payload"]
    assert first[2]["duration_ms"] == 12 and first[1]["sent_at"] is None


def test_an_empty_parquet_export_is_a_valid_file(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "empty.parquet"
    assert write_parquet(iter(()), str(path)) == 0
    assert pq.read_table(path).num_rows == 0


def test_integers_beyond_64_bits_are_written_not_dropped(tmp_path):
    row = {**ROWS[0], "payload": {"order_number": 123456789012345678901234}}
    line = b"".join(stream([row], "jsonl"))
    assert b'"order_number": 123456789012345678901234' in line and line.endswith(b"\n")
    assert "123456789012345678901234" in b"".join(stream([row], "csv")).decode()
    pq = pytest.importorskip("pyarrow.parquet")
    write_parquet(iter([row]), str(tmp_path / "big.parquet"))
    assert "123456789012345678901234" in pq.read_table(tmp_path / "big.parquet").column("payload")[0].as_py()


def test_csv_text_a_spreadsheet_would_run_as_a_formula_is_defused():
    row = {**ROWS[1], "error_detail": "=HYPERLINK(\"http://evil\")", "recipient": "+14155550100"}
    table = list(csv.DictReader(io.StringIO(b"".join(stream([row], "csv")).decode())))
    assert table[0]["error_detail"] == "'=HYPERLINK(\"http://evil\")" and table[0]["recipient"] == "'+14155550100"
