"""Registering a user's push device, with the number of active devices per user bounded."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from notifications.channels.models import Device
from notifications.tenants.limits import MAX_ACTIVE_DEVICES_PER_USER

logger = logging.getLogger(__name__)

REPLACED_REASON = "device_limit"


def register_device(tenant_id: str, user_id: str, platform: str, token: str, subscription: dict[str, Any],
                    limit: int = MAX_ACTIVE_DEVICES_PER_USER) -> Device:
    """Add the device (or move it to this user and reactivate it). A user keeps at most `limit` active
    devices: registering one more deactivates the least recently registered ones, with reason
    `device_limit`, so a new phone always works and a client that registers in a loop fills nothing."""
    with transaction.atomic():
        # Concurrent registrations of one user queue here (PostgreSQL), so the count holds under races.
        list(Device.objects.select_for_update().filter(tenant_id=tenant_id, user_id=user_id, active=True)
             .values_list("pk", flat=True))
        device, _ = Device.objects.update_or_create(
            tenant_id=tenant_id, platform=platform, token=token,
            defaults={"user_id": user_id, "subscription": subscription, "active": True, "deactivated_reason": ""},
        )
        excess = list(Device.objects.filter(tenant_id=tenant_id, user_id=user_id, active=True)
                      .order_by("-updated_at", "-pk").values_list("pk", flat=True)[limit:])
        if excess:
            Device.objects.filter(pk__in=excess).update(active=False, deactivated_reason=REPLACED_REASON)
            logger.info("tenant_id=%s user_id=%s: %d device(s) deactivated beyond the limit of %d", tenant_id,
                        user_id, len(excess), limit)
    return device
