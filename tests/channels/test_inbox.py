"""The inbox hook: inbox_messages_created fires once the intake transaction commits."""

from __future__ import annotations

import pytest

from notifications.channels.inbox import inbox_messages_created
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_inbox_hook_fires_after_commit(tenant):
    seen = []

    def receiver(sender, groups, **kwargs):
        seen.extend(groups)

    inbox_messages_created.connect(receiver)
    try:
        event_registry.process_event(make_event("task.assigned"))
    finally:
        inbox_messages_created.disconnect(receiver)

    [(tenant_id, user_id, ids)] = seen
    assert (tenant_id, user_id, len(ids)) == ("acme", "u-1", 1)
