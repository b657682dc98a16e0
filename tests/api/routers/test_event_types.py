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


# The tenant's own types (notifications/tenant_types)


def _define(api: ApiClient, **changes: Any) -> Any:
    from tests.tenant_types.helpers import definition

    return api.post("/event-types", definition(**changes))


def test_a_tenant_creates_a_type_and_lists_it_with_its_contract(api_a):
    created = _define(api_a)

    assert created.status_code == 201, created.content
    assert created.json()["version"] == 1 and created.json()["is_active"] is True
    listed = {item["name"]: item for item in api_a.get("/event-types").json()["types"]}
    mine = listed["order.shipped"]
    assert mine["source"] == "tenant" and mine["channels"] == ["email", "in_app"]
    assert mine["payload_schema"]["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert mine["payload_schema"]["required"] == ["user_id", "order_id"]
    assert mine["example"]["payload"]["order_id"] == "A-1" and mine["example"]["tenant_id"] == "acme"
    assert _validator(mine["payload_schema"]).is_valid(mine["example"]["payload"])
    detail = api_a.get("/event-types/order.shipped").json()
    assert detail["source"] == "tenant" and detail["definition"]["templates"]["email"]["de"]["subject"]


def test_creating_a_name_twice_is_a_conflict_and_bad_parts_are_named(api_a):
    assert _define(api_a).status_code == 201
    assert _define(api_a).status_code == 409
    bad = _define(api_a, name="order.returned", channels=["email", "pigeon"])
    assert bad.status_code == 422 and bad.json()["detail"] == "channels: [1]: unknown channel 'pigeon'"


def test_shadowing_a_built_in_type_is_refused(api_a):
    answer = _define(api_a, name="comment.mentioned")

    assert answer.status_code == 422
    assert "cannot be redefined by a tenant" in answer.json()["detail"]


def test_a_hostile_schema_is_refused_through_the_api(api_a):
    answer = _define(api_a, payload_schema={"type": "object", "properties": {
        "a": {"$ref": "http://169.254.169.254/latest/meta-data"}}})

    assert answer.status_code == 422
    assert answer.json()["detail"].startswith("payload_schema: /properties/a/$ref: only references inside")


def test_an_update_makes_a_new_version_and_delete_deactivates(api_a):
    _define(api_a)

    changed = api_a.put("/event-types/order.shipped", {"description": "Now with tracking"})
    deleted = api_a.delete("/event-types/order.shipped")

    assert changed.status_code == 200 and changed.json()["version"] == 2
    assert changed.json()["description"] == "Now with tracking"
    assert deleted.json()["is_active"] is False and deleted.json()["version"] == 3
    assert "order.shipped" not in {item["name"] for item in api_a.get("/event-types").json()["types"]}
    assert api_a.get("/event-types/order.shipped").status_code == 404
    again = api_a.put("/event-types/order.shipped", {})
    assert again.json()["is_active"] is True and again.json()["version"] == 4


def test_another_tenant_cannot_read_list_update_or_delete_a_tenants_type(api_a, api_b):
    _define(api_a)

    assert "order.shipped" not in {item["name"] for item in api_b.get("/event-types").json()["types"]}
    assert api_b.get("/event-types/order.shipped").status_code == 404
    assert api_b.put("/event-types/order.shipped", {"description": "mine now"}).status_code == 404
    assert api_b.delete("/event-types/order.shipped").status_code == 404
    mine = api_a.get("/event-types/order.shipped").json()["definition"]
    assert (mine["version"], mine["is_active"], mine["description"]) == (1, True, "An order left the warehouse")


def test_two_tenants_may_each_define_the_same_name(api_a, api_b):
    assert _define(api_a).status_code == 201
    assert _define(api_b, description="Globex's own").status_code == 201

    theirs = api_b.get("/event-types/order.shipped").json()
    assert theirs["definition"]["description"] == "Globex's own" and theirs["example"]["tenant_id"] == "globex"


def test_the_type_endpoints_need_a_key():
    assert ApiClient(None).post("/event-types", {"name": "order.shipped"}).status_code == 401


@pytest.mark.parametrize(("schema", "says"), [
    ({"type": "object", "properties": {f"p{i}": {"type": "string"} for i in range(3_000)}}, "payload_schema"),
    ({"type": "object", "description": "x" * 40_000}, "payload_schema: /: the payload schema is larger than"),
])
def test_huge_schemas_are_refused_through_the_api(api_a, schema, says):
    answer = _define(api_a, payload_schema=schema)

    assert answer.status_code == 422 and says in str(answer.json()["detail"])


def test_a_deeply_nested_schema_is_refused_through_the_api(api_a):
    schema: dict[str, Any] = {"type": "object"}
    inner = schema
    for _ in range(30):
        inner["properties"] = {"a": {"type": "object"}}
        inner = inner["properties"]["a"]

    answer = _define(api_a, payload_schema=schema)

    assert answer.status_code == 422
    assert "nested deeper than 24 levels" in answer.json()["detail"]
