"""Test doubles shipped with the package: event factories for every event type and an in-memory sender.

    from notifications.testing import make_event, InMemorySender, use_sender
"""

from notifications.testing.factories import EXAMPLE_PAYLOADS, make_event
from notifications.testing.senders import InMemorySender, use_sender

__all__ = ["EXAMPLE_PAYLOADS", "InMemorySender", "make_event", "use_sender"]
