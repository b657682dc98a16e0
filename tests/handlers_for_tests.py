"""Handlers of a host project, for NOTIFICATIONS["HANDLERS"] (and NOTIFICATIONS_HANDLERS in a worker's
environment): "tests.handlers_for_tests:MockEventHandler". tests/events/test_configured_handlers.py loads each one."""

from __future__ import annotations

from typing import Any, ClassVar

from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler


# Exactly the guide's "Mock Event Testing" handler: known by can_handle() only.
class MockEventHandler(BaseEventHandler):
    def can_handle(self, event_type):
        return event_type == 'test.event'

    def get_template_data(self, payload):
        return payload

    def _get_email_content(self, event_type, context):
        return {'subject': 'Test', 'body': 'Test email'}


class InvoiceHandler(BaseEventHandler):
    """A handler with declared types, the way a host project usually writes one."""

    event_types = ("billing.invoice.issued",)
    channels = (Channel.EMAIL,)
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {"subject": "Invoice {{ invoice_id }}", "body": "Your invoice {{ invoice_id }} is ready."},
    }

    def example_payload(self, event_type: str) -> dict[str, Any]:
        return {"user_id": "u-1", "email": "billing@example.com", "invoice_id": "INV-1"}


class Outer:
    class NestedHandler(BaseEventHandler):
        event_types = ("nested.event",)

        def _get_email_content(self, event_type, context):
            return {"subject": "Nested", "body": "Nested"}


# Bad entries.

class NotAHandler:
    event_types = ("not.a.handler",)


not_a_class = MockEventHandler()


class ClashesWithBuiltin(BaseEventHandler):
    event_types = ("task.assigned",)

    def _get_email_content(self, event_type, context):
        return {"subject": "Mine", "body": "Mine"}


class ClaimsEverything(BaseEventHandler):
    """A can_handle() handler that would take the built-ins' types too."""

    def can_handle(self, event_type):
        return True

    def _get_email_content(self, event_type, context):
        return {"subject": "All", "body": "All"}


class AlsoInvoices(BaseEventHandler):
    event_types = ("billing.invoice.issued",)

    def _get_email_content(self, event_type, context):
        return {"subject": "Again", "body": "Again"}


class AnotherTestEvent(BaseEventHandler):
    event_types = ("test.event",)

    def _get_email_content(self, event_type, context):
        return {"subject": "Other", "body": "Other"}


class BrokenConstructor(BaseEventHandler):
    event_types = ("broken.event",)

    def __init__(self) -> None:
        raise RuntimeError("needs a connection string")
