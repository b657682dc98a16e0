"""At most MAX_ACTIVE_DEVICES_PER_USER active devices per user: one more deactivates the least recently
registered; another tenant's devices are neither counted nor touched."""

from __future__ import annotations

import pytest

from notifications.channels.models import Device
from notifications.tenants.devices import REPLACED_REASON, register_device
from notifications.tenants.limits import MAX_ACTIVE_DEVICES_PER_USER

pytestmark = pytest.mark.django_db


def test_registering_beyond_the_cap_deactivates_the_oldest(api_a, api_b):
    for i in range(MAX_ACTIVE_DEVICES_PER_USER):
        assert api_b.post("/contacts/u-1/devices", {"platform": "fcm", "token": f"globex-{i}"}).status_code == 201
    ids = [api_a.post("/contacts/u-7/devices", {"platform": "fcm", "token": f"tok-{i}"}).json()["id"]
           for i in range(MAX_ACTIVE_DEVICES_PER_USER + 2)]

    active = api_a.get("/contacts/u-7/devices").json()
    assert len(active) == MAX_ACTIVE_DEVICES_PER_USER
    assert {d["id"] for d in active} == set(ids[2:])
    gone = Device.objects.filter(pk__in=ids[:2])
    assert {(d.active, d.deactivated_reason) for d in gone} == {(False, REPLACED_REASON)}
    # The other tenant's user of the same id keeps every device.
    assert Device.objects.filter(tenant_id="globex", active=True).count() == MAX_ACTIVE_DEVICES_PER_USER


def test_re_registering_a_known_device_reactivates_it_within_the_cap(tenant):
    for i in range(3):
        register_device("acme", "u-8", "fcm", f"t-{i}", {}, limit=2)
    assert list(Device.objects.filter(user_id="u-8", active=True).order_by("token")
                .values_list("token", flat=True)) == ["t-1", "t-2"]
    register_device("acme", "u-8", "fcm", "t-0", {}, limit=2)
    assert list(Device.objects.filter(user_id="u-8", active=True).order_by("token")
                .values_list("token", flat=True)) == ["t-0", "t-2"]


def test_device_tokens_and_subscriptions_are_bounded(api_a):
    assert api_a.post("/contacts/u-7/devices", {"platform": "fcm", "token": "x" * 513}).status_code == 422
    big = {"keys": {"p256dh": "x" * 5000, "auth": "y"}}
    answer = api_a.post("/contacts/u-7/devices", {"platform": "webpush", "token": "https://push.example.com/1",
                                                  "subscription": big})
    assert answer.status_code == 422 and "subscription" in str(answer.json())
    assert not Device.objects.filter(user_id="u-7").exists()
