"""manage.py event_schemas --out DIR: the producer contracts as files a producer team can version."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from notifications.events.registry import event_registry


def test_writes_one_schema_per_type_and_the_envelope(tmp_path, capsys):
    out = tmp_path / "schemas"

    call_command("event_schemas", "--out", str(out))

    names = sorted(path.name for path in out.iterdir())
    assert names == sorted(["envelope.schema.json", *(f"{name}.schema.json" for name in event_registry.event_types)])
    printed = capsys.readouterr().out
    assert f"wrote {out / 'comment.mentioned.schema.json'}" in printed
    assert f"{len(names)} schema files in {out}" in printed

    mention = json.loads((out / "comment.mentioned.schema.json").read_text())
    assert mention["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert mention["x-event-type"] == "comment.mentioned" and mention["x-channels"] == ["email", "in_app", "push"]
    assert "mentioned_by" in mention["properties"] and "mentioned_by" not in mention["required"]
    assert mention["examples"][0]["comment_id"] == "C-7"
    envelope = json.loads((out / "envelope.schema.json").read_text())
    assert "cancel_key" in envelope["properties"] and "to_topic" in envelope["properties"]


def test_the_files_are_stable(tmp_path):
    call_command("event_schemas", "--out", str(tmp_path / "a"))
    call_command("event_schemas", "--out", str(tmp_path / "b"))

    for path in (tmp_path / "a").iterdir():
        text = path.read_text()
        assert text == (tmp_path / "b" / path.name).read_text()
        assert text.endswith("}\n") and not text.endswith("\n\n")
        assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.django_db
def test_a_tenants_own_types_are_written_with_tenant_id(tmp_path, tenant):
    from notifications.tenant_types import service
    from tests.tenant_types.helpers import definition

    body = definition()
    service.create("acme", body.pop("name"), body)

    call_command("event_schemas", "--out", str(tmp_path / "acme"), "--tenant-id", "acme")
    call_command("event_schemas", "--out", str(tmp_path / "none"))

    written = json.loads((tmp_path / "acme" / "order.shipped.schema.json").read_text())
    assert written["x-source"] == "tenant" and written["x-channels"] == ["email", "in_app"]
    assert written["examples"] == [body["example"]]
    assert not (tmp_path / "none" / "order.shipped.schema.json").exists()
