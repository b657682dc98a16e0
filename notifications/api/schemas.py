
from datetime import datetime
from typing import Any
from uuid import UUID

from ninja import Field, Schema


class Problem(Schema):
    detail: str


class RecordOut(Schema):
    id: int
    channel: str
    status: str
    reason: str = ""


class EventResultOut(Schema):
    outcome: str
    event_type: str = ""
    tenant_id: str = ""
    event_id: str = ""
    reason: str | None = None
    detail: str = ""
    records: list[RecordOut] = []


class EventsOut(Schema):
    results: list[EventResultOut]


class TemplateIn(Schema):
    name: str = Field(..., max_length=200)
    channel: str = Field(..., max_length=16)
    content: dict[str, str]
    placeholders: list[str] = []
    is_active: bool = True


class TemplatePatch(Schema):
    content: dict[str, str] | None = None
    placeholders: list[str] | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    channel: str
    content: dict[str, Any]
    placeholders: list[str]
    is_active: bool
    version: int
    updated_at: datetime


class PreviewIn(Schema):
    event_type: str = Field(..., max_length=128)
    channel: str = Field(..., max_length=16)
    content: dict[str, str] | None = Field(None, description="Unsaved template content; default: the active one")
    payload: dict[str, Any] | None = Field(None, description="Sample payload; default: the built-in example")


class PreviewOut(Schema):
    fields: dict[str, str]
    source: str


class TestSendIn(Schema):
    to: str = Field(..., max_length=320, description="E-mail address or E.164 phone number")
    payload: dict[str, Any] | None = None


class TestSendOut(Schema):
    ok: bool
    provider: str = ""
    provider_message_id: str = ""
    error_code: str = ""


class ContactIn(Schema):
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    locale: str = Field("", max_length=35)


class ContactOut(ContactIn):
    user_id: str
    updated_at: datetime


class DeviceIn(Schema):
    platform: str = Field(..., description="fcm, apns or webpush")
    token: str = Field(..., max_length=512, description="FCM/APNs token, or the Web Push endpoint URL")
    subscription: dict[str, Any] = Field(default_factory=dict, description="Web Push: {keys: {p256dh, auth}}")


class DeviceOut(Schema):
    id: int
    user_id: str
    platform: str
    active: bool
    created_at: datetime


class PreferenceItem(Schema):
    event_type: str = Field("*", max_length=128)
    channel: str = Field("*", max_length=16)
    enabled: bool


class TenantSettingsIn(Schema):
    disabled_events: list[str] = []
    disabled_channels: dict[str, list[str]] = {}
    rate_limits: dict[str, dict[str, dict[str, int]]] = {}
    default_locale: str = Field("", max_length=35)


class TenantPatch(Schema):
    name: str | None = Field(None, max_length=200)
    app_url: str | None = Field(None, max_length=200)
    branding: dict[str, str] | None = None


class TenantOut(Schema):
    id: str
    name: str
    app_url: str
    branding: dict[str, Any]
    settings: dict[str, Any]


class RecordDetailOut(Schema):
    id: int
    event_id: UUID
    event_type: str
    user_id: str
    channel: str
    recipient: str
    status: str
    reason: str
    attempts: int
    provider: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None


class StatsOut(Schema):
    since: datetime
    until: datetime
    counts: list[dict[str, Any]]
    sent: int
    failed: int
    success_rate: float | None
    delivery_seconds_p50: float | None
    delivery_seconds_p95: float | None


class InboxMessageOut(Schema):
    id: int
    event_type: str
    title: str
    body: str
    action_url: str
    created_at: datetime
    read: bool
    archived: bool


class InboxPageOut(Schema):
    items: list[InboxMessageOut]
    next_cursor: str | None
    unread: int


class CountOut(Schema):
    unread: int
