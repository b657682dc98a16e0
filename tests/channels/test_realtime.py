from __future__ import annotations

import json

import pytest
from django.db import connection

from notifications.channels.realtime import PG_CHANNEL, announce_many
from notifications.db import listening_connection


@pytest.mark.django_db(transaction=True)
def test_many_changes_travel_in_few_notifications_and_none_is_lost():
    if connection.vendor != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's; in one process changes go straight to the hub")
    changes = [("acme", f"user-{n}", {"type": "messages", "ids": [n, n + 1]}) for n in range(2000)]
    with listening_connection(PG_CHANNEL) as listener:
        announce_many(changes)
        received = []
        payloads = 0
        for notify in listener.notifies(timeout=5):
            payloads += 1
            assert len(notify.payload.encode()) < 8000
            received += [tuple(change) for change in json.loads(notify.payload)["changes"]]
            if len(received) >= len(changes):
                break
    assert received == [(t, u, e) for t, u, e in changes]
    assert payloads < len(changes) / 50
