"""All models of the app, importable from one place: `from notifications.models import NotificationRecord`."""

from notifications.channels.models import InAppMessage
from notifications.delivery.models import NotificationRecord
from notifications.events.models import Event, RejectedEvent
from notifications.rendering.models import NotificationTemplate
from notifications.tenants.models import Contact, Preference, Tenant

__all__ = [
    "Contact",
    "Event",
    "InAppMessage",
    "NotificationRecord",
    "NotificationTemplate",
    "Preference",
    "RejectedEvent",
    "Tenant",
]
