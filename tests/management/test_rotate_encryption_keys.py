"""rotate_encryption_keys re-seals provider credentials and event secrets under the newest key."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from notifications.channels.models import ProviderConfig
from notifications.events.registry import event_registry
from notifications.models import Event
from notifications.security import decrypt_text
from notifications.testing import make_event
from tests.fixtures import add_provider

pytestmark = pytest.mark.django_db


def test_rotate_encryption_keys(tenant, settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [old]}
    row = add_provider(tenant.id, "sms", "webhook", {"url": "http://127.0.0.1:9/x"}, {"secret": "hook"})
    event_registry.process_event(make_event("user.password.reset.requested"))

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [new, old]}
    call_command("rotate_encryption_keys")
    assert "providers=1, events=1" in capsys.readouterr().out

    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "ENCRYPTION_KEYS": [new]}  # old key retired
    assert ProviderConfig.objects.get(pk=row.pk).credentials == {"secret": "hook"}
    token = Event.objects.get().payload["reset_token"]["$enc"]
    assert decrypt_text(token) == "rst-tok-9f8e7d"
