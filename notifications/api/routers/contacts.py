"""Contacts, devices and preferences: each path's user id and body checked by its storable type
(notifications.storable); devices and preferences bounded per user (notifications.tenants.limits)."""

from typing import Annotated

from django.db import transaction
from django.shortcuts import get_object_or_404
from ninja import Body, Field, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import ValidationError as PayloadError

from notifications.api.auth import TenantRequest
from notifications.api.schemas import (
    ContactIn,
    ContactOut,
    DeviceIn,
    DeviceOut,
    PreferenceItem,
)
from notifications.channels.models import Device
from notifications.channels.spec import CHANNEL_SPECS
from notifications.enums import PushPlatform
from notifications.events.handlers.fields import UserPayload
from notifications.history.erasure import erase_user
from notifications.storable import RowId, UserId
from notifications.tenants.devices import register_device
from notifications.tenants.limits import MAX_PREFERENCES_PER_USER
from notifications.tenants.models import WILDCARD, Contact, Preference

router = Router(tags=["contacts, devices and preferences"])


def _public_https(url: str) -> bool:
    """A push service endpoint: https, a host name or a public address (no loopback or private targets)."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname or parts.hostname == "localhost":
        return False
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        return not parts.hostname.endswith((".local", ".internal", ".localhost"))
    return address.is_global


@router.get("/contacts/{user_id}", response=ContactOut)
def get_contact(request: TenantRequest, user_id: UserId):
    return get_object_or_404(Contact, tenant_id=request.auth.tenant_id, user_id=user_id)


@router.put("/contacts/{user_id}", response=ContactOut)
def put_contact(request: TenantRequest, user_id: UserId, body: ContactIn):
    """Replace the user's contact. `timezone` (an IANA name) is where their times are shown and their quiet
    hours read; `quiet_hours` replaces the tenant's window for them ({"off": true}: none, {}: the tenant's)."""
    text_fields = ("email", "phone", "first_name", "last_name", "locale")
    try:  # the same address rules as event payloads
        checked = UserPayload.model_validate({"user_id": user_id, **body.dict(include=set(text_fields))})
    except PayloadError as err:
        raise HttpError(422, "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                                       for e in err.errors(include_input=False))) from err
    values = {field: getattr(checked, field) or "" for field in text_fields}
    values.update(timezone=body.timezone, quiet_hours=body.quiet_hours)  # checked by their schema types
    contact, _ = Contact.objects.update_or_create(tenant_id=request.auth.tenant_id, user_id=user_id,
                                                  defaults=values)
    return contact


class ErasureOut(Schema):
    pseudonym: str
    erased: dict[str, int]


@router.delete("/contacts/{user_id}", response={200: ErasureOut, 204: None})
def delete_contact(request: TenantRequest, user_id: UserId, erase: bool = False):
    """The contact; with `erase=true`, everything of this person in every table (notifications/history/erasure.py):
    answers the pseudonym their rows now carry and what was erased, 404 when nothing of theirs was found."""
    if erase:
        report = erase_user(request.auth.tenant_id, user_id, requested_by=f"api key {request.auth.key_prefix}")
        if not report.found:
            raise HttpError(404, "Not Found")
        return Status(200, {"pseudonym": report.pseudonym, "erased": report.counts})
    deleted, _ = Contact.objects.filter(tenant_id=request.auth.tenant_id, user_id=user_id).delete()
    if not deleted:
        raise HttpError(404, "Not Found")
    return Status(204, None)


@router.get("/contacts/{user_id}/devices", response=list[DeviceOut])
def list_devices(request: TenantRequest, user_id: UserId):
    return list(Device.objects.filter(tenant_id=request.auth.tenant_id, user_id=user_id, active=True))


@router.post("/contacts/{user_id}/devices", response={201: DeviceOut})
def upsert_device(request: TenantRequest, user_id: UserId, body: DeviceIn):
    if body.platform not in {p.value for p in PushPlatform}:
        raise HttpError(422, "platform must be fcm, apns or webpush")
    if body.platform == PushPlatform.WEBPUSH and not _public_https(body.token):
        raise HttpError(422, "a Web Push token is the subscription's public https endpoint")
    device = register_device(request.auth.tenant_id, user_id, body.platform, body.token, body.subscription)
    return Status(201, device)


@router.delete("/devices/{int:device_id}", response={204: None})
def delete_device(request: TenantRequest, device_id: RowId):
    deleted, _ = Device.objects.filter(tenant_id=request.auth.tenant_id, pk=device_id).delete()
    if not deleted:
        raise HttpError(404, "Not Found")
    return Status(204, None)


@router.get("/users/{user_id}/preferences", response=list[PreferenceItem])
def get_preferences(request: TenantRequest, user_id: UserId):
    return list(Preference.objects.filter(tenant_id=request.auth.tenant_id, user_id=user_id))


@router.put("/users/{user_id}/preferences", response=list[PreferenceItem])
def put_preferences(request: TenantRequest, user_id: UserId,
                    body: Annotated[list[PreferenceItem], Field(max_length=MAX_PREFERENCES_PER_USER)] = Body(...)):
    """Replace the user's choices (a bounded list). `*` means every event type or channel; the most specific choice
    wins. Password resets and 2FA codes are sent whatever the choices."""
    channels = {*CHANNEL_SPECS, WILDCARD}
    for item in body:
        if item.channel not in channels:
            raise HttpError(422, f"unknown channel {item.channel!r}")
    tenant_id = request.auth.tenant_id
    with transaction.atomic():
        Preference.objects.filter(tenant_id=tenant_id, user_id=user_id).delete()
        unique = {(item.event_type, item.channel): item.enabled for item in body}
        Preference.objects.bulk_create([
            Preference(tenant_id=tenant_id, user_id=user_id, event_type=e, channel=c, enabled=enabled)
            for (e, c), enabled in unique.items()
        ])
    return list(Preference.objects.filter(tenant_id=tenant_id, user_id=user_id))
