"""The producer contracts (notifications/events/contracts.py): every event type the tenant can publish, with its
payload's JSON Schema, channels and an example; the envelope's schema once, beside the list."""

from __future__ import annotations

from typing import Annotated, Any

from ninja import Router
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.events.contracts import envelope_schema, event_type_contracts
from notifications.storable import ID_LENGTH, Storable

router = Router(tags=["event types"])


@router.get("")
def list_event_types(request: TenantRequest) -> dict[str, Any]:
    """`{"envelope": <the envelope's JSON Schema>, "types": [<contract>, ...]}`, by name. Each contract: `name`,
    `source` (built-in, host), `channels`, `critical`, `mandatory`, `security_alert`, `sensitive_fields`,
    `payload_schema` and `example` (a whole event, with this tenant's id)."""
    return {"envelope": envelope_schema(), "types": event_type_contracts(request.auth.tenant_id)}


@router.get("/{name}")
def get_event_type(request: TenantRequest, name: Annotated[str, Storable(ID_LENGTH, min_length=1)]) -> dict[str, Any]:
    """One event type's contract; 404 for a type this tenant cannot publish."""
    for item in event_type_contracts(request.auth.tenant_id):
        if item["name"] == name:
            return item
    raise HttpError(404, f"no event type {name!r}")
