"""The producer contracts (notifications/events/contracts.py): every event type the tenant can publish, with its
payload's JSON Schema, channels and an example; the envelope's schema once, beside the list. The tenant's own
types (notifications/tenant_types) are created, changed and deactivated here too."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import AfterValidator

from notifications.api.auth import TenantRequest
from notifications.events.contracts import envelope_schema, event_type_contracts
from notifications.storable import CHANNEL_LENGTH, ID_LENGTH, Storable, StoredJSON, json_checker
from notifications.tenant_types import service
from notifications.tenant_types.schemas import MAX_SCHEMA_BYTES, MAX_SCHEMA_DEPTH, MAX_SCHEMA_NODES
from notifications.tenant_types.service import EventTypeExists, EventTypeNotFound
from notifications.tenant_types.validation import MAX_DESCRIPTION, MAX_TEMPLATE_CHARS

router = Router(tags=["event types"])

TypeName = Annotated[str, Storable(ID_LENGTH, min_length=1)]
# Storable and bounded before the definition's own checks (tenant_types/validation.py), which name the bad part
# more closely: these bounds are looser than theirs and only keep a hostile body from reaching them.
PayloadSchema = Annotated[dict[str, Any], AfterValidator(json_checker(
    max_depth=MAX_SCHEMA_DEPTH * 4, max_items=MAX_SCHEMA_NODES * 8, max_text=MAX_SCHEMA_BYTES * 2))]
Templates = Annotated[dict[str, Any], AfterValidator(json_checker(
    max_depth=6, max_items=1_000, max_text=MAX_TEMPLATE_CHARS * 20))]
ChannelList = Annotated[list[Annotated[str, Storable(CHANNEL_LENGTH, min_length=1)]], Field(max_length=16)]


class EventTypeChange(Schema):
    """A tenant-defined type's fields; on PUT, those left out keep their stored values."""

    description: Annotated[str, Storable(MAX_DESCRIPTION)] | None = None
    payload_schema: PayloadSchema | None = None
    channels: ChannelList | None = None
    templates: Templates | None = None
    example: StoredJSON | None = None


class EventTypeIn(EventTypeChange):
    name: TypeName


@router.get("")
def list_event_types(request: TenantRequest) -> dict[str, Any]:
    """`{"envelope": <the envelope's JSON Schema>, "types": [<contract>, ...]}`, by name. Each contract: `name`,
    `source` (built-in, host, tenant), `channels`, `critical`, `mandatory`, `security_alert`, `sensitive_fields`,
    `payload_schema` and `example` (a whole event, with this tenant's id)."""
    return {"envelope": envelope_schema(), "types": event_type_contracts(request.auth.tenant_id)}


@router.get("/{name}")
def get_event_type(request: TenantRequest, name: TypeName) -> dict[str, Any]:
    """One event type's contract; 404 for a type this tenant cannot publish. A tenant's own type also shows
    its definition (`definition`: version, templates, description)."""
    for item in event_type_contracts(request.auth.tenant_id):
        if item["name"] == name:
            if item["source"] == "tenant":
                item["definition"] = service.as_dict(service.get(request.auth.tenant_id, name))
            return item
    raise HttpError(404, f"no event type {name!r}")


@router.post("", response={201: dict[str, Any]})
def create_event_type(request: TenantRequest, body: EventTypeIn) -> Status:
    """A new tenant-defined type, version 1; 422 names the bad part, 409 if the tenant has one of that name."""
    try:
        row = service.create(request.auth.tenant_id, body.name, body.model_dump(exclude={"name"}))
    except EventTypeExists as err:
        raise HttpError(409, str(err)) from None
    return Status(201, service.as_dict(row))


@router.put("/{name}")
def update_event_type(request: TenantRequest, name: TypeName, body: EventTypeChange) -> dict[str, Any]:
    """A new version of the tenant's type, used from each process's next batch on."""
    try:
        row = service.update(request.auth.tenant_id, name, body.model_dump(exclude_unset=True))
    except EventTypeNotFound as err:
        raise HttpError(404, str(err)) from None
    return service.as_dict(row)


@router.delete("/{name}")
def deactivate_event_type(request: TenantRequest, name: TypeName) -> dict[str, Any]:
    """Deactivate the tenant's type: its new events are refused; stored events and records stay readable."""
    try:
        row = service.deactivate(request.auth.tenant_id, name)
    except EventTypeNotFound as err:
        raise HttpError(404, str(err)) from None
    return service.as_dict(row)
