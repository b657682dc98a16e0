"""Planning a notification's records: a channel without an address is skipped, never misrouted."""

from __future__ import annotations

import uuid

import pytest
from django.core import mail
from django.utils import timezone

from notifications.channels.models import Device
from notifications.digests.models import DigestWindow
from notifications.enums import SkipReason, Status
from notifications.events.envelope import validate_event
from notifications.events.registry import event_registry
from notifications.intake.isolation import Failures
from notifications.intake.planning import Accepted, planner_for
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_channel_without_address_is_skipped_never_misrouted(tenant, deliver):
    event = make_event("invoice.payment.failed", email=None, phone=None, user_id="u-without-device")

    result = event_registry.process_event(event)
    deliver()

    by_channel = {r.channel: (r.status, r.reason) for r in result.records}
    assert by_channel == {
        "email": (Status.SKIPPED, SkipReason.NO_ADDRESS),
        "sms": (Status.SKIPPED, SkipReason.NO_ADDRESS),
        "push": (Status.SKIPPED, SkipReason.NO_ADDRESS),
    }
    assert mail.outbox == []


def _accepted(index, user_id, *, unknown=False):
    validated = validate_event(make_event("content.liked", user_id=user_id), event_registry)
    return Accepted(index, validated, str(uuid.uuid4()), validated.payload, unknown=unknown)


@pytest.mark.parametrize("windows", [True, False])
def test_the_planners_one_write_is_left_out_when_asked(tenant, windows):
    """planner_for(windows=False), a dry run's: the records are digested as intake's, no window is opened."""
    tenant.settings = {**tenant.settings, "digests": {"content.liked": {"in_app": {"window_seconds": 600}}}}
    tenant.save()
    item = _accepted(0, "u-1")
    planner = planner_for([item], {tenant.id: tenant}, timezone.now(), windows=windows)
    planner.plan_all([item], {}, Failures())
    assert [(r.channel, r.status) for r in planner.records if r.digest] == [("in_app", Status.SCHEDULED)]
    assert DigestWindow.objects.count() == (1 if windows else 0)


def test_an_audiences_unknown_recipient_is_not_looked_up(tenant):
    """A fan-out's recipient the directory does not know: their devices, preferences and limits are not read (their
    records are skipped as unknown_recipient whatever those say)."""
    Device.objects.create(tenant=tenant, user_id="u-stranger", platform="fcm", token="fcm-token-stranger")
    known, stranger = _accepted(0, "u-1"), _accepted(1, "u-stranger", unknown=True)
    planner = planner_for([known, stranger], {tenant.id: tenant}, timezone.now())
    assert set(planner.devices) == {(tenant.id, "u-1")}
    planner.plan_all([known, stranger], {}, Failures())
    assert {r.reason for r in planner.records if r.item is stranger} == {SkipReason.UNKNOWN_RECIPIENT}
