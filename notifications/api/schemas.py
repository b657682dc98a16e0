"""The API's request and response shapes. Every input field is a storable type (notifications.storable) sized to
the column it goes to, every list and JSON object bounded: bad input answers 422 naming the field."""

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator, ConfigDict, field_validator

from notifications.rendering.locales import canonical
from notifications.scheduling.quiet_hours import EXAMPLE as QUIET_HOURS_EXAMPLE
from notifications.scheduling.quiet_hours import window_problems
from notifications.scheduling.zones import ZONE_LENGTH, checked_zone
from notifications.storable import (
    LOCALE_LENGTH,
    NAME_LENGTH,
    URL_LENGTH,
    ChannelName,
    EventType,
    Locale,
    Storable,
    StoredJSON,
    json_checker,
)
from notifications.tenants.limits import (
    DEVICE_TOKEN_LENGTH,
    MAX_BRANDING_KEYS,
    MAX_BRANDING_VALUE_LENGTH,
    MAX_DEVICE_SUBSCRIPTION_KEYS,
    MAX_DEVICE_SUBSCRIPTION_TEXT,
    MAX_SETTING_ENTRIES,
    RATE_LIMIT_MAX,
    RATE_LIMIT_MIN,
    RATE_WINDOW_DEFAULT_SECONDS,
    RATE_WINDOW_MAX_SECONDS,
    RATE_WINDOW_MIN_SECONDS,
)

TEMPLATE_PART_LENGTH = 100_000  # one content part (subject, body, html...) of a template
MAX_TEMPLATE_PARTS = 8
MAX_PLACEHOLDERS = 200
MAX_CHANNELS = 8  # channel names in one setting entry (four channels and '*')
# The shapes, named once: an annotation is a name, never a call. A type checker reads them as what they are
# (str, a JSON object); pydantic reads their bounds.
TemplatePartName = Annotated[str, Storable(32, 1)]
TemplatePart = Annotated[str, Storable(TEMPLATE_PART_LENGTH)]
PlaceholderName = Annotated[str, Storable(128, 1)]
Name = Annotated[str, Storable(NAME_LENGTH)]
RequiredName = Annotated[str, Storable(NAME_LENGTH, min_length=1)]
Recipient = Annotated[str, Storable(320, min_length=1)]
EmailAddress = Annotated[str, Storable(254)]
PhoneNumber = Annotated[str, Storable(32)]
PersonName = Annotated[str, Storable(150)]
DeviceToken = Annotated[str, Storable(DEVICE_TOKEN_LENGTH, min_length=1)]
DeviceSubscription = Annotated[dict[str, Any], AfterValidator(json_checker(
    max_items=MAX_DEVICE_SUBSCRIPTION_KEYS, max_text=MAX_DEVICE_SUBSCRIPTION_TEXT, max_depth=3))]
AppUrl = Annotated[str, Storable(URL_LENGTH)]
BrandingKey = Annotated[str, Storable(64, 1)]
BrandingValue = Annotated[str, Storable(MAX_BRANDING_VALUE_LENGTH)]


def _window(value: dict[str, Any]) -> dict[str, Any]:
    problems = window_problems(value)
    if problems:
        raise ValueError("; ".join(f"{key}: {problem}" for key, problem in problems.items()))
    return value


TimeZoneName = Annotated[str, Storable(ZONE_LENGTH), AfterValidator(checked_zone), Field(
    description="An IANA time zone (Europe/Berlin); blank: the tenant's default_timezone, else UTC")]
QuietHoursWindow = Annotated[dict[str, Any], AfterValidator(json_checker(max_items=64, max_depth=2)),
                             AfterValidator(_window), Field(
    description=f"Quiet hours in local time: {QUIET_HOURS_EXAMPLE} (channels optional: every channel but "
                "in_app); {} for none", examples=[{"start": "22:00", "end": "07:00"}])]
TemplateContent = Annotated[dict[TemplatePartName, TemplatePart], Field(max_length=MAX_TEMPLATE_PARTS)]


def _template_locale(value: str) -> str:
    if not value:
        return ""
    found = canonical(value)
    if found is None:
        raise ValueError(f"unknown locale {value!r}: expected a BCP 47 tag such as 'de' or 'de-AT'")
    return found


TemplateLocale = Annotated[str, Storable(LOCALE_LENGTH), AfterValidator(_template_locale), Field(
    description="A BCP 47 tag (de, de-AT), stored canonical; blank: the tenant's default locale")]
Placeholders = Annotated[list[PlaceholderName], Field(max_length=MAX_PLACEHOLDERS)]


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
    #: An audience event's fan-out (GET /api/v1/fanouts/{id}): its records are written after the response.
    fanout_id: int | None = None


class EventsOut(Schema):
    results: list[EventResultOut]


class TemplateIn(Schema):
    name: RequiredName
    channel: ChannelName
    locale: TemplateLocale = ""
    content: TemplateContent
    placeholders: Placeholders = []
    is_active: bool = True


class TemplatePatch(Schema):
    content: TemplateContent | None = None
    placeholders: Placeholders | None = None
    is_active: bool | None = None


class TemplateOut(Schema):
    id: int
    name: str
    channel: str
    locale: str
    content: dict[str, Any]
    placeholders: list[str]
    is_active: bool
    version: int
    updated_at: datetime


class PreviewIn(Schema):
    event_type: EventType
    channel: ChannelName
    content: TemplateContent | None = Field(None, description="Unsaved template content; default: the active one")
    payload: StoredJSON | None = Field(None, description="Sample payload; default: the built-in example")
    timezone: TimeZoneName = ""  # times shown in this zone; blank: the tenant's default_timezone, else UTC
    locale: TemplateLocale = Field("", description="The recipient's locale to render for (texts, dates, the "
                                   "tenant's template for it); blank: the payload's, else the tenant's default")


class PreviewOut(Schema):
    fields: dict[str, str]
    source: str


class TestSendIn(Schema):
    to: Recipient = Field(..., description="One e-mail address or one E.164 phone number")
    payload: StoredJSON | None = None
    locale: TemplateLocale = Field("", description="The recipient's locale to render for; blank: the "
                                   "template's own locale, else the tenant's default")


class TestSendOut(Schema):
    ok: bool
    provider: str = ""
    provider_message_id: str = ""
    error_code: str = ""


class ContactIn(Schema):
    email: EmailAddress = ""
    phone: PhoneNumber = ""
    first_name: PersonName = ""
    last_name: PersonName = ""
    locale: Locale = ""
    timezone: TimeZoneName = ""
    quiet_hours: Annotated[QuietHoursWindow, Field(description=(
        f"The user's own quiet hours, replacing the tenant's: {QUIET_HOURS_EXAMPLE}; {{\"off\": true}}: none "
        "at all; {}: the tenant's"))] = {}


class ContactOut(ContactIn):
    user_id: str
    updated_at: datetime
    # As stored: the answer never fails on a value written around the checks (the admin's, a raw writer's).
    timezone: str = ""
    quiet_hours: dict[str, Any] = {}

    @field_validator("quiet_hours", mode="before")
    @classmethod
    def _stored_shape(cls, value: Any) -> Any:
        """A value stored around the checks that is not an object is answered as none ({}), never a 500; intake
        reads it as none too (scheduling/quiet_hours.py)."""
        return value if isinstance(value, dict) else {}


class DeviceIn(Schema):
    platform: ChannelName = Field(..., description="fcm, apns or webpush")
    token: DeviceToken = Field(..., description="FCM/APNs token, or the Web Push endpoint URL")
    subscription: DeviceSubscription = Field(default_factory=dict, description="Web Push: {keys: {p256dh, auth}}")


class DeviceOut(Schema):
    id: int
    user_id: str
    platform: str
    active: bool
    created_at: datetime


class PreferenceItem(Schema):
    event_type: EventType = "*"
    channel: ChannelName = "*"
    enabled: bool


class RateLimitRule(Schema):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(..., ge=RATE_LIMIT_MIN, le=RATE_LIMIT_MAX)
    per_seconds: int = Field(RATE_WINDOW_DEFAULT_SECONDS, ge=RATE_WINDOW_MIN_SECONDS, le=RATE_WINDOW_MAX_SECONDS)
    #: Over the limit: "skip" the records, or "digest" them (notifications/digests).
    excess: Literal["skip", "digest"] = "skip"


class TenantSettingsIn(Schema):
    disabled_events: Annotated[list[EventType], Field(max_length=MAX_SETTING_ENTRIES)] = []
    disabled_channels: Annotated[dict[EventType, Annotated[list[ChannelName], Field(max_length=MAX_CHANNELS)]],
                                 Field(max_length=MAX_SETTING_ENTRIES)] = {}
    rate_limits: Annotated[dict[EventType, Annotated[dict[ChannelName, RateLimitRule], Field(max_length=MAX_CHANNELS)]],
                           Field(max_length=MAX_SETTING_ENTRIES)] = {}
    default_locale: Locale = ""
    default_timezone: TimeZoneName = ""
    quiet_hours: QuietHoursWindow = {}
    default_delays: Annotated[dict[EventType, Annotated[dict[ChannelName, Annotated[int, Field(ge=1)]],
                                                        Field(min_length=1, max_length=MAX_CHANNELS)]],
                              Field(max_length=MAX_SETTING_ENTRIES)] = {}
    allow_delaying_security: bool = False
    #: Events addressed `to_all` reach every contact (notifications/audiences); off by default.
    allow_broadcast: bool = False
    #: Digest rules per event type and channel, checked by Tenant.clean() (digests/settings.py names the bad part).
    digests: Annotated[dict[EventType, dict[ChannelName, dict[str, Any]]], Field(max_length=MAX_SETTING_ENTRIES)] = {}
    #: Supersede rules per event type, checked by Tenant.clean() (scheduling/supersede.py).
    cancels: Annotated[dict[EventType, list[dict[str, Any]]], Field(max_length=MAX_SETTING_ENTRIES)] = {}


class TenantPatch(Schema):
    name: Name | None = None
    app_url: AppUrl | None = None
    branding: Annotated[dict[BrandingKey, BrandingValue], Field(max_length=MAX_BRANDING_KEYS)] | None = None


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
