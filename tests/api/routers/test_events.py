from __future__ import annotations

import json

import pytest

from notifications.events.models import Event
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_a_string_event_cannot_smuggle_another_tenant(api_a):
    smuggled = json.dumps(make_event("task.assigned", "globex"))
    assert api_a.post("/events", json.dumps(smuggled)).status_code == 422  # a JSON string literal
    assert api_a.post("/events", [smuggled]).status_code == 422
    assert not Event.objects.filter(tenant_id="globex").exists()
