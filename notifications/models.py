"""All models of the app, importable from one place: `from notifications.models import NotificationRecord`."""

from notifications.api.models import ApiKey
from notifications.audiences.models import FanOut, Subscription, Topic
from notifications.channels.models import Device, InAppMessage, ProviderConfig
from notifications.delivery.models import DeliveryAttempt, NotificationRecord
from notifications.digests.models import DigestWindow
from notifications.events.models import Event, EventKey, RejectedEvent
from notifications.history.models import Erasure
from notifications.observability.models import RecordCount
from notifications.rendering.models import NotificationTemplate
from notifications.rules.models import RuleSet
from notifications.tenant_types.models import TenantEventType
from notifications.tenants.models import Contact, Preference, Tenant

__all__ = [
    "ApiKey",
    "Contact",
    "DeliveryAttempt",
    "Device",
    "DigestWindow",
    "Erasure",
    "Event",
    "EventKey",
    "FanOut",
    "InAppMessage",
    "NotificationRecord",
    "NotificationTemplate",
    "Preference",
    "ProviderConfig",
    "RecordCount",
    "RejectedEvent",
    "RuleSet",
    "Subscription",
    "Tenant",
    "TenantEventType",
    "Topic",
]
