"""The realtime hook of the in-app channel: after the transaction that wrote inbox messages commits,
`inbox_messages_created` is sent with (tenant_id, user_id, message ids) groups. The SSE stream and any
embedding app can connect to it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.dispatch import Signal

from notifications.channels.models import InAppMessage

logger = logging.getLogger(__name__)

#: Sent with keyword `groups`: a list of (tenant_id, user_id, [message ids]).
inbox_messages_created = Signal()


def announce_after_commit(messages: Iterable[tuple[str, str, int]]) -> None:
    """`messages`: (tenant_id, user_id, message id) of each message written."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for tenant_id, user_id, pk in messages:
        groups[(tenant_id, user_id)].append(pk)
    if not groups:
        return
    payload = [(tenant, user, ids) for (tenant, user), ids in groups.items()]

    def send() -> None:
        for receiver, response in inbox_messages_created.send_robust(sender=InAppMessage, groups=payload):
            if isinstance(response, Exception):
                logger.error("inbox hook %r failed: %s", receiver, type(response).__name__)

    transaction.on_commit(send)
