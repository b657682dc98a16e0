from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core import mail

from notifications.events.registry import event_registry
from notifications.models import NotificationRecord

pytestmark = pytest.mark.django_db


def test_guides_password_reset_with_naive_datetimes_is_delivered(tenant, deliver):
    now = datetime.utcnow()
    event_registry.process_event({
        'event_type': 'user.password.reset.requested', 'tenant_id': tenant.id, 'timestamp': now.isoformat(),
        'payload': {'user_id': '7', 'email': 'ada@example.com', 'phone': '+14155550100', 'reset_token': 'tok-1',
                    'expires_at': (now + timedelta(hours=2)).isoformat(), 'ip_address': '203.0.113.1',
                    'reset_link': 'https://app.example.com/reset-password?token=tok-1'}})

    deliver()

    assert set(NotificationRecord.objects.values_list("status", flat=True)) == {"sent"}
    assert "(in 2 hours)" in mail.outbox[0].body
