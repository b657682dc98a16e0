"""manage.py erase_user: erases and prints the pseudonym and counts, never the person's data."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.history.models import Erasure
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_erases_and_reports_without_the_persons_data(tenant):
    event_registry.process_event(make_event("user.registration.completed", user_id="p-991",
                                            email="p991@example.org"))
    out = io.StringIO()
    call_command("erase_user", "--tenant-id", "acme", "--user-id", "p-991", stdout=out)
    text = out.getvalue()
    assert "erased; their rows now carry erased-" in text and "events 1" in text and "contacts 1" in text
    assert "p-991" not in text and "p991@example.org" not in text
    assert not Event.objects.filter(user_id="p-991").exists()
    assert Erasure.objects.get().requested_by == "command"


def test_nothing_found_is_an_error(tenant):
    with pytest.raises(CommandError, match="nothing of this user was found"):
        call_command("erase_user", "--tenant-id", "acme", "--user-id", "nobody", stdout=io.StringIO())
