"""Creating, changing and deactivating a tenant's event types. Every query names the tenant: another tenant's
definition of the same name is never read, changed or revealed (its absence and its presence answer alike)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from notifications.errors import NotificationError
from notifications.tenant_types.models import TenantEventType
from notifications.tenant_types.validation import check_definition, check_name
from notifications.tenants.models import Tenant

#: The fields a definition is made of (besides its name), as the API and the admin take them.
FIELDS = ("description", "payload_schema", "channels", "templates", "example")
#: Definitions one tenant may hold (deactivated ones included): each is compiled in every process that meets it.
MAX_TYPES_PER_TENANT = 200


class EventTypeNotFound(NotificationError):
    """No event type of this name for this tenant (another tenant's is not this tenant's)."""


class EventTypeExists(NotificationError):
    """The tenant has an event type of this name already (update it instead)."""


def create(tenant_id: str, name: str, data: Mapping[str, Any]) -> TenantEventType:
    tenant = Tenant.ensure([tenant_id])[tenant_id]
    check_name(name)
    if TenantEventType.objects.filter(tenant=tenant).count() >= MAX_TYPES_PER_TENANT:
        raise ValidationError({"name": f"a tenant may define at most {MAX_TYPES_PER_TENANT} event types"})
    cleaned = check_definition(tenant, name, data)
    try:
        with transaction.atomic():
            return TenantEventType.objects.create(tenant=tenant, name=name, **cleaned)
    except IntegrityError as err:
        raise EventTypeExists(f"event type {name!r} exists; change it with PUT") from err


def update(tenant_id: str, name: str, data: Mapping[str, Any]) -> TenantEventType:
    """A new version: the fields given replace the stored ones (those left out are kept). A deactivated type
    is active again."""
    with transaction.atomic():
        row = _locked(tenant_id, name)
        merged = {field: data[field] if field in data else getattr(row, field) for field in FIELDS}
        cleaned = check_definition(row.tenant, name, merged)
        for field, value in cleaned.items():
            setattr(row, field, value)
        row.is_active = True
        row.version = F("version") + 1
        row.save()
        row.refresh_from_db()
        return row


def deactivate(tenant_id: str, name: str) -> TenantEventType:
    """New events of the type are refused from the next batch on; stored events and records stay readable and
    records already planned are still delivered."""
    with transaction.atomic():
        row = _locked(tenant_id, name)
        if row.is_active:
            row.is_active = False
            row.version = F("version") + 1
            row.save(update_fields=["is_active", "version", "updated_at"])
            row.refresh_from_db()
        return row


def get(tenant_id: str, name: str) -> TenantEventType:
    row = TenantEventType.objects.filter(tenant_id=tenant_id, name=name).first()
    if row is None:
        raise EventTypeNotFound(f"no event type {name!r} of this tenant")
    return row


def _locked(tenant_id: str, name: str) -> TenantEventType:
    row = TenantEventType.objects.select_for_update().select_related("tenant").filter(
        tenant_id=tenant_id, name=name).first()
    if row is None:
        raise EventTypeNotFound(f"no event type {name!r} of this tenant")
    return row


def as_dict(row: TenantEventType) -> dict[str, Any]:
    """A definition as the API shows it to its tenant."""
    return {
        "name": row.name, "description": row.description, "version": row.version, "is_active": row.is_active,
        "payload_schema": row.payload_schema, "channels": row.channels, "templates": row.templates,
        "example": row.example, "created_at": row.created_at.isoformat(), "updated_at": row.updated_at.isoformat(),
    }
