"""A tenant's rules apply to a fan-out's recipients as to intake's (the same planner): per recipient where a rule
reads the recipient, once for the event where none does."""

from __future__ import annotations

import pytest

from notifications.audiences.runner import run_until_idle
from notifications.delivery.models import NotificationRecord
from notifications.enums import Lane, SkipReason, Status
from notifications.rules.store import save_rules
from tests.fanouts import contacts, fanout_to

pytestmark = pytest.mark.django_db


def by_user(job) -> dict[str, dict[str, tuple[str, str]]]:
    found: dict[str, dict[str, tuple[str, str]]] = {}
    for r in NotificationRecord.objects.filter(event_id=job.event_id):
        found.setdefault(r.user_id, {})[r.channel] = (r.status, r.reason)
    return found


def test_rules_apply_to_each_recipient(tenant):
    ids = contacts(tenant, 3)
    from notifications.tenants.models import Contact

    Contact.objects.filter(user_id=ids[0]).update(locale="de")
    save_rules("acme", [
        {"name": "no push for task broadcasts", "event_types": ["task.assigned"],
         "when": "payload.priority != 'urgent'", "actions": {"remove_channels": ["push"]}},
        {"name": "germans by sms too", "when": "recipient.locale == 'de'", "actions": {"add_channels": ["sms"]}},
        {"name": "skip the in-app", "actions": {"remove_channels": ["in_app"], "priority": "high"}},
    ])

    job = fanout_to(ids)
    run_until_idle()

    records = by_user(job)
    assert set(records[ids[0]]) == {"email", "sms"} and set(records[ids[1]]) == {"email"}
    assert records[ids[0]]["sms"] == (Status.SKIPPED, SkipReason.NO_ADDRESS)  # no phone: added, then skipped
    assert set(NotificationRecord.objects.filter(event_id=job.event_id).values_list("lane", flat=True)) == {
        Lane.BULK}  # a broadcast stays in the bulk lane whatever its priority
