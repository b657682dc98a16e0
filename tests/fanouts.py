"""Making fan-outs in tests (notifications/audiences): contacts, an event addressed to an audience, and a job
recorded by intake. Shared by tests/audiences, tests/api, tests/management and tests/web (no test module imports
another)."""

from __future__ import annotations

import uuid
from typing import Any

from notifications.audiences.models import FanOut
from notifications.intake.service import process_events
from notifications.tenants.models import Contact, Tenant
from notifications.testing import make_event


def audience_event(event_type: str = "task.assigned", tenant_id: str = "acme", **addressing: Any) -> dict[str, Any]:
    """An event for no one user: add `recipients=[...]`, `to_topic=...` or `to_all=True`."""
    event = make_event(event_type, tenant_id, user_id=None, email=None)
    return {**event, **addressing}


def contacts(tenant: Tenant | str, count: int, prefix: str = "user") -> list[str]:
    """`count` contacts of the tenant, user ids `<prefix>-00000`...; returns the ids."""
    tenant_id = tenant if isinstance(tenant, str) else tenant.pk
    ids = [f"{prefix}-{i:05d}" for i in range(count)]
    Contact.objects.bulk_create([Contact(tenant_id=tenant_id, user_id=user_id, email=f"{user_id}@example.com",
                                         first_name=f"Name{i}") for i, user_id in enumerate(ids)])
    return ids


def fanout_to(recipients: list[str], tenant_id: str = "acme", **fields: Any) -> FanOut:
    """A fan-out job to these user ids, recorded by intake (pending: no runner has run). Each call is a new event
    (its own event_id), unless `event_id` is given."""
    fields.setdefault("event_id", str(uuid.uuid4()))
    fields = {k: v for k, v in fields.items() if v is not None}
    result = process_events([audience_event(tenant_id=tenant_id, recipients=recipients, **fields)])[0]
    assert result.fanout_id is not None, result
    return FanOut.objects.get(pk=result.fanout_id)
