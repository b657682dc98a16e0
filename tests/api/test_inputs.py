"""Every API input is checked against what the database can store, on SQLite and PostgreSQL alike: each operation
of the OpenAPI spec (so a new endpoint is covered by being added) gets, in each of its text, number, list and
object inputs, a NUL character, a lone surrogate (a JSON \\ud800 escape), an over-long string, a 10 MB string,
2**70 and a 100,000-entry list or object. Each answers 422 naming the input (413 for a body beyond the upload
limit), never 500, and nothing is stored."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from notifications.api.app import api
from notifications.api.models import ApiKey
from notifications.channels.models import Device
from notifications.models import Contact, NotificationTemplate, Preference
from notifications.tenants.models import Tenant
from tests.fixtures import inbox_token

pytestmark = pytest.mark.django_db

SPEC = api.get_openapi_schema(path_prefix="/api/v1/")
# The stream never ends by design (its inputs are the token only); the events body is the envelope's, below.
UNTYPED = {("get", "/api/v1/inbox/stream"), ("post", "/api/v1/events")}
NUL = "a\x00b"
LONG = "x" * 1_000_000  # beyond every column, within the upload limit
TEN_MB = "x" * 10_000_000
MANY = 100_000


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in schema:
        schema = next(_resolve(s) for s in schema["anyOf"] if s.get("type") != "null")
    return schema


def _kind(schema: dict[str, Any]) -> str:
    schema = _resolve(schema)
    return schema.get("type") or ("object" if "properties" in schema else "any")


def _hostile(kind: str, where: str) -> list[tuple[str, Any]]:
    """(label, value) pairs for an input of this kind; a 'raw:' label carries JSON text as is."""
    if kind == "string":
        values = [("nul", NUL), ("long", LONG if where == "body" else "x" * 100_000)]
        if where == "body":  # a URL cannot carry a lone surrogate: only JSON text can
            values += [("surrogate", "raw:\"a\\ud800b\""), ("10mb", TEN_MB)]
        return values
    if kind == "integer":  # a path's {int:} route takes digits only: a minus sign does not route at all
        return [("2**70", 2**70)] + ([("-2**70", -(2**70))] if where != "path" else [])
    if kind == "array":
        return [("many", ["x"] * MANY), ("nul item", [NUL])]
    if kind == "object":
        return [("many", {f"k{i}": "x" for i in range(MANY)}), ("nul key", {NUL: "x"}),
                ("surrogate key", "raw:{\"a\\ud800\": \"x\"}")]
    return []


def _cases() -> list[Any]:
    cases = []
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            if (method, path) in UNTYPED:
                continue
            for param in operation.get("parameters", []):
                for label, value in _hostile(_kind(param["schema"]), param["in"]):
                    cases.append(pytest.param(method, path, param["in"], param["name"], value,
                                              id=f"{method} {path} {param['in']}.{param['name']} {label}"))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body is None:
                continue
            body = _resolve(body)
            if body.get("type") == "array":  # the whole body is a list
                item = _resolve(body["items"])
                for name, field in item.get("properties", {}).items():
                    for label, value in _hostile(_kind(field), "body"):
                        cases.append(pytest.param(method, path, "body[]", name, value,
                                                  id=f"{method} {path} body[].{name} {label}"))
                cases.append(pytest.param(method, path, "body", "body", [{}] * MANY,
                                          id=f"{method} {path} body many"))
            for name, field in body.get("properties", {}).items():
                for label, value in _hostile(_kind(field), "body"):
                    cases.append(pytest.param(method, path, "body", name, value,
                                              id=f"{method} {path} body.{name} {label}"))
    return cases


def _json(value: Any) -> str:
    return value[4:] if isinstance(value, str) and value.startswith("raw:") else json.dumps(value)


def _request(method: str, path: str, where: str, name: str, value: Any, headers: dict[str, str]) -> Any:
    from urllib.parse import quote

    url = path
    for param in ("user_id", "template_id", "device_id", "record_id", "message_id", "key", "fanout_id", "event_id",
                  "name", "number"):
        hostile = where == "path" and name == param
        url = url.replace(f"{{{param}}}", quote(str(value), safe="") if hostile else
                          ("u-1" if param == "user_id" else "1"))
    data = None
    if where == "query" and isinstance(value, list):  # a list in a query string: the name repeated, at most
        # Django's 1,000 query fields (more: tests/api/routers/test_history.py)
        url += "?" + "&".join(f"{name}={quote(str(item), safe='')}" for item in value[:1000])
    elif where == "query":
        url += f"?{name}={quote(str(value), safe='')}"
    elif where == "body":
        data = "{" + json.dumps(name) + ": " + _json(value) + "}" if name != "body" else json.dumps(value)
    elif where == "body[]":
        data = "[{" + json.dumps(name) + ": " + _json(value) + "}]"
    elif method in ("post", "put", "patch"):
        data = "{}"
    kwargs: dict[str, Any] = dict(headers)
    if data is not None:
        kwargs.update(data=data, content_type="application/json")
    return getattr(Client(), method)(url, **kwargs)


def _snapshot() -> tuple[Any, ...]:
    return (Contact.objects.count(), Device.objects.count(), Preference.objects.count(),
            NotificationTemplate.objects.count(), list(Tenant.objects.values_list("id", "name", "app_url",
                                                                                   "branding", "settings")))


@pytest.fixture
def headers(inbox_settings: Any) -> dict[str, str]:
    Tenant.objects.create(id="acme", name="Acme")
    _, key = ApiKey.issue("acme", "tests")
    return {"HTTP_X_API_KEY": key, "HTTP_AUTHORIZATION": f"Bearer {inbox_token('acme', 'u-1')}"}


def _named(answer: dict[str, Any], name: str) -> bool:
    detail = answer.get("detail")
    if isinstance(detail, str):
        return name in detail
    return any(name in [str(part) for part in error["loc"]] for error in detail)


def test_every_operation_with_inputs_is_covered() -> None:
    operations = {(c.values[0], c.values[1]) for c in _cases()}
    expected = {(m, p) for p, ops in SPEC["paths"].items() for m, op in ops.items()
                if (m, p) not in UNTYPED and (op.get("requestBody") or any(
                    _kind(param["schema"]) != "boolean" for param in op.get("parameters", [])))}
    assert operations == expected
    assert len(operations) >= 20


@pytest.mark.parametrize("method,path,where,name,value", _cases())
def test_hostile_input_is_refused_naming_it(method, path, where, name, value, headers) -> None:
    # The inbox takes the end user's token; the service endpoints take the API key (one header each).
    inbox = path.startswith("/api/v1/inbox/")
    auth = {k: v for k, v in headers.items() if (k == "HTTP_AUTHORIZATION") == inbox}
    before = _snapshot()

    response = _request(method, path, where, name, value, auth)

    if value is TEN_MB:
        assert response.status_code == 413, response.content[:300]
    else:
        assert response.status_code == 422, response.content[:300]
        assert _named(response.json(), name), response.json()
    assert _snapshot() == before


def test_events_body_nul_surrogate_huge_numbers_and_long_lists(headers) -> None:
    """The events body is the envelope's to judge: such events are rejected with a reason, never a 500."""
    from notifications.testing import make_event

    auth = {"HTTP_X_API_KEY": headers["HTTP_X_API_KEY"]}
    client = Client()

    def post(data: str) -> Any:
        return client.post("/api/v1/events", data=data, content_type="application/json", **auth)

    nul = make_event("task.assigned", task_title=NUL)
    surrogate = json.dumps(make_event("task.assigned", event_id="s-1")).replace('"Review', '"\\ud800Review')
    huge = make_event("invoice.payment.failed", amount=2**70)
    results = [post(json.dumps(nul)), post(surrogate), post(json.dumps(huge))]
    assert [r.status_code for r in results] == [200, 200, 200]
    assert [r.json()["results"][0]["outcome"] for r in results] == ["rejected"] * 3
    assert post(json.dumps([{}] * MANY)).status_code == 422
    assert post(json.dumps(make_event("task.assigned", task_title=TEN_MB))).status_code == 413
