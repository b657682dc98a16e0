"""Control events: instructions to the service rather than notifications. They go through intake like any event
(validated, deduplicated, stored, rejected with a reason when bad) and are planned no records: their handlers
have no channels. Intake acts on them after the batch's records are written (intake/cancels.py)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, field_validator

from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler, EventPayload
from notifications.events.envelope import MAX_CANCEL_KEY, cancel_key_problem

__all__ = ["CANCEL_EVENT", "MAX_CANCEL_KEY", "NotificationCancelHandler", "cancel_key_problem"]

#: `{"event_type": "notification.cancel", "payload": {"cancel_key": "..."}}` cancels, for the envelope's tenant,
#: every notification not yet sent whose event carried that cancel_key (scheduling/cancel.py).
CANCEL_EVENT = "notification.cancel"
class CancelPayload(EventPayload):
    """The key, required (a misspelt `cancelKey` is refused, so a cancel that would cancel nothing never passes
    for one that did), taken as written (no stripping). Other fields are kept with the event, like any payload's."""

    model_config = ConfigDict(str_strip_whitespace=False)
    cancel_key: str

    @field_validator("cancel_key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> str:
        problem = cancel_key_problem(value)
        if problem:
            raise ValueError(problem)
        return str(value)


class NotificationCancelHandler(BaseEventHandler):
    event_types = (CANCEL_EVENT,)
    channels: ClassVar[tuple[Channel, ...]] = ()  # no records: intake applies the cancel instead
    payload_model = CancelPayload
