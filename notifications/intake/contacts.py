"""The batch's directory look-ups: its users' contacts (with the contact data payloads carry written back) and
their active devices. Each is one query per few hundred users, whatever the batch's size."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from notifications.channels.models import Device
from notifications.db import upsert_text_rows
from notifications.intake.batches import CHUNK, chunks
from notifications.intake.isolation import NOT_PER_EVENT, Failures
from notifications.tenants.models import Contact

if TYPE_CHECKING:  # planning reads devices_for: the import goes that way
    from notifications.intake.planning import Accepted

CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "locale", "timezone")
#: Read with the contact for scheduling.timing (a JSON object, set by the API and the admin only: never written
#: back from payloads).
QUIET_HOURS = "quiet_hours"
# Read as text, decoded only when set: most users have none ({}), and decoding every row's JSON was ~1 us each.
_QUIET_TEXT, _NONE = Cast(QUIET_HOURS, output_field=TextField()), "{}"

Users = set[tuple[str, str]]


def resolve_contacts(accepted: list[Accepted], failures: Failures) -> dict[tuple[str, str], dict[str, Any]]:
    """The directory entries of the batch's users, after applying the contact data that payloads carry. An
    event whose contact fields cannot be read is set aside in `failures`.

    Users are matched with `field__any` (one `= ANY(text[])` literal: e31c677, ~4% of intake, Python 171 -> 160
    us per event with that commit's other changes) and read as tuples (values_list, 7207b93), not models.

    A user's own quiet hours ride along under "quiet_hours" (a dict, only when set) for scheduling.timing."""
    wanted = [(a.event.tenant_id, a.event.user_id) for a in accepted if a.event.user_id]
    contacts: dict[tuple[str, str], dict[str, Any]] = {}
    for chunk in chunks(sorted(set(wanted))):
        rows = Contact.objects.filter(
            tenant_id__any={t for t, _ in chunk}, user_id__any={u for _, u in chunk}
        ).values_list("tenant_id", "user_id", *CONTACT_COLUMNS)
        for tenant_id, user_id, quiet, *values in rows:
            contacts[(tenant_id, user_id)] = contact_from_row(quiet, values)
    changed: dict[tuple[str, str], dict[str, Any]] = {}
    for item in accepted:
        if not (item.event.handler.fills_contacts and item.event.user_id):
            continue
        key = (item.event.tenant_id, item.event.user_id)
        try:
            update = item.event.handler.get_contact_fields(item.event.payload)
        except NOT_PER_EVENT:
            raise
        except Exception as err:  # noqa: BLE001 - this event's own problem
            failures.add(item.index, item.event, err)
            continue
        merged = {**contacts.get(key, {}), **update}
        if merged != contacts.get(key):
            contacts[key] = changed[key] = merged
    if changed:
        _write_contacts(changed)
    return contacts


def _write_contacts(changed: dict[tuple[str, str], dict[str, Any]]) -> None:
    """The changed contacts inserted or updated (their CONTACT_FIELDS and updated_at): one statement on
    PostgreSQL (notifications.db.upsert_text_rows), the ORM's upsert elsewhere."""
    if connection.vendor == "postgresql":
        now = timezone.now()
        upsert_text_rows(Contact, ("tenant", "user_id"), ("tenant", "user_id", *CONTACT_FIELDS),
                         [(tenant, user, *[data.get(f, "") for f in CONTACT_FIELDS])
                          for (tenant, user), data in changed.items()],
                         update=(*CONTACT_FIELDS, "updated_at"),
                         constants={"quiet_hours": {}, "created_at": now, "updated_at": now})
        return
    Contact.objects.bulk_create(
        [
            Contact(tenant_id=tenant, user_id=user, **{f: data.get(f, "") for f in CONTACT_FIELDS})
            for (tenant, user), data in changed.items()
        ],
        batch_size=CHUNK,
        update_conflicts=True,
        unique_fields=["tenant", "user_id"],
        update_fields=[*CONTACT_FIELDS, "updated_at"],
    )


#: The columns contact_from_row reads, after the caller's own: `.values_list(..., *CONTACT_COLUMNS)`.
CONTACT_COLUMNS = (_QUIET_TEXT, *CONTACT_FIELDS)


def contact_from_row(quiet: str | None, values: Any) -> dict[str, Any]:
    """A directory row read as CONTACT_COLUMNS, as the planner takes it: its fields that are set, and its quiet
    hours when it has its own."""
    contact: dict[str, Any] = {f: value for f, value in zip(CONTACT_FIELDS, values, strict=True) if value}
    if quiet and quiet != _NONE:
        contact[QUIET_HOURS] = json.loads(quiet)
    return contact


def devices_for(users: Users) -> dict[tuple[str, str], list[Device]]:
    """The users' active devices, oldest first."""
    found: dict[tuple[str, str], list[Device]] = {}
    if not users:
        return found
    rows = Device.objects.filter(
        tenant_id__any={t for t, _ in users}, user_id__any={u for _, u in users}, active=True
    ).order_by("id")
    for device in rows:
        if (device.tenant_id, device.user_id) in users:
            found.setdefault((device.tenant_id, device.user_id), []).append(device)
    return found
