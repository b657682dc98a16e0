"""Hostile parts for intake tests: a handler whose code raises on demand, per payload, at each per-event step."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from notifications.enums import Channel
from notifications.events.handlers.app import TaskAssignedHandler
from notifications.events.registry import event_registry
from notifications.testing import make_event

HOSTILE_TYPE = "hostile.task"
SECRET_IN_ERROR = "s3cret-value-from-the-payload"  # an error's text: must never be stored or answered


def _raise(kind: str) -> None:
    if kind.startswith("memory"):
        raise MemoryError(SECRET_IN_ERROR)
    if kind.startswith("recursion"):
        raise RecursionError(SECRET_IN_ERROR)
    raise RuntimeError(SECRET_IN_ERROR)


class HostileHandler(TaskAssignedHandler):
    """task.assigned's channels (email, in-app, push) and payload; the payload's `task_id` says where it fails:
    "plan-*" in planning, "contact-*" reading contact fields, "inbox-*"/"email-*" rendering that channel."""

    event_types = (HOSTILE_TYPE,)
    fills_contacts = True

    def get_channels(self, event_type: str, payload: dict[str, Any]) -> tuple[Channel, ...]:
        if payload["task_id"].startswith("plan-"):
            _raise(payload["task_id"][5:])
        return super().get_channels(event_type, payload)

    def get_contact_fields(self, payload: dict[str, Any]) -> dict[str, str]:
        if payload["task_id"].startswith("contact-"):
            _raise(payload["task_id"][8:])
        return super().get_contact_fields(payload)

    def get_content(self, channel: Channel, event_type: str, context: dict[str, Any]) -> dict[str, str]:
        task_id = context["task_id"]
        if channel == Channel.IN_APP and task_id.startswith("inbox-"):
            _raise(task_id[6:])
        if channel == Channel.EMAIL and task_id.startswith("email-"):
            _raise(task_id[6:])
        return super().get_content(channel, event_type, context)


@contextmanager
def hostile_handler() -> Iterator[HostileHandler]:
    handler = HostileHandler()
    event_registry.register(handler)
    try:
        yield handler
    finally:
        event_registry.unregister_handler(handler)


def hostile_event(failure: str, tenant_id: str = "acme", user_id: str = "u-1", **payload: Any) -> dict[str, Any]:
    event = make_event("task.assigned", tenant_id, task_id=failure, user_id=user_id, **payload)
    return {**event, "event_type": HOSTILE_TYPE}


def good_event(n: int, tenant_id: str = "acme", user_id: str = "u-1") -> dict[str, Any]:
    return make_event("task.assigned", tenant_id, task_id=f"T-{n}", user_id=user_id)
