"""GET /api/v1/event-types: the producer contracts (notifications/events/contracts.py)."""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest

from notifications.events.examples import EXAMPLE_PAYLOADS
from notifications.events.registry import event_registry
from tests.fixtures import ApiClient

pytestmark = pytest.mark.django_db


def _validator(schema: dict[str, Any]) -> Any:
    """A JSON Schema validator: jsonschema_rs (installed with schemathesis) or jsonschema, whichever is there."""
    if importlib.util.find_spec("jsonschema_rs") is not None:
        import jsonschema_rs

        return jsonschema_rs.validator_for(schema)
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.validators.validator_for(schema)(schema)


def test_the_listing_gives_the_envelope_once_and_every_registered_type(api_a):
    answer = api_a.get("/event-types")

    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"envelope", "types"}
    assert body["envelope"]["required"] == ["event_type", "tenant_id", "timestamp", "payload"]
    names = [item["name"] for item in body["types"]]
    assert names == sorted(event_registry.event_types) and "notification.cancel" in names
    assert set(EXAMPLE_PAYLOADS) <= set(names)
    for item in body["types"]:
        assert set(item) == {"name", "source", "channels", "critical", "mandatory", "security_alert",
                             "sensitive_fields", "payload_schema", "example"}
        assert item["example"]["event_type"] == item["name"] and item["example"]["tenant_id"] == "acme"


def test_one_type(api_a):
    answer = api_a.get("/event-types/comment.mentioned")

    assert answer.status_code == 200
    item = answer.json()
    assert item["name"] == "comment.mentioned" and item["source"] == "built-in"
    assert item["channels"] == ["email", "in_app", "push"] and item["critical"] is False
    schema = item["payload_schema"]
    assert schema["type"] == "object" and schema["additionalProperties"] is True  # unknown fields are kept
    assert set(schema["required"]) == {"user_id", "comment_id"}  # mentioned_by is display-only
    assert item["example"]["payload"] == EXAMPLE_PAYLOADS["comment.mentioned"]


def test_critical_and_sensitive_types_say_so(api_a):
    code = api_a.get("/event-types/auth.2fa.code.requested").json()
    assert (code["critical"], code["mandatory"], code["sensitive_fields"]) == (True, True, ["code"])
    cancel = api_a.get("/event-types/notification.cancel").json()
    assert cancel["channels"] == [] and cancel["payload_schema"]["required"] == ["cancel_key"]


def test_an_unknown_type_is_404(api_a):
    answer = api_a.get("/event-types/order.shipped")

    assert answer.status_code == 404 and "order.shipped" in answer.json()["detail"]


def test_each_example_validates_against_its_schema_and_the_envelope(api_a):
    body = api_a.get("/event-types").json()
    envelope = _validator(body["envelope"])
    for item in body["types"]:
        assert envelope.is_valid(item["example"]), item["name"]
        assert _validator(item["payload_schema"]).is_valid(item["example"]["payload"]), item["name"]


def test_the_schema_refuses_what_intake_refuses(api_a):
    schema = api_a.get("/event-types/comment.mentioned").json()["payload_schema"]
    without_id = {k: v for k, v in EXAMPLE_PAYLOADS["comment.mentioned"].items() if k != "comment_id"}
    without_name = {k: v for k, v in EXAMPLE_PAYLOADS["comment.mentioned"].items() if k != "mentioned_by"}

    assert not _validator(schema).is_valid(without_id)
    assert _validator(schema).is_valid({**without_name, "ticket_ref": "SUP-12"})


def test_each_example_is_accepted_by_intake(api_a):
    for item in api_a.get("/event-types").json()["types"]:
        result = api_a.post("/events", item["example"]).json()["results"][0]
        assert result["outcome"] == "processed", (item["name"], result)


def test_authentication_is_required():
    assert ApiClient(None).get("/event-types").status_code == 401
    assert ApiClient("not-a-key").get("/event-types/comment.mentioned").status_code == 401


def test_the_listing_is_the_same_for_every_tenant_today(api_a, api_b):
    # Today every type comes from the handlers in code, so every tenant sees the same list (only the examples'
    # tenant_id differs). Tenant-defined types (issue 19, point 3) will make it differ: the test then changes.
    first, second = api_a.get("/event-types").json(), api_b.get("/event-types").json()

    assert second["types"][0]["example"]["tenant_id"] == "globex"
    for item in [*first["types"], *second["types"]]:
        item["example"].pop("tenant_id")
    assert first == second
