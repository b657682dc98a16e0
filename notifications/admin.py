"""Django admin for operators. Secrets stay masked: payloads are shown redacted, rejected originals redacted."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from notifications.audiences import admin as audiences_admin  # noqa: F401 - registers Topic, Subscription, FanOut
from notifications.channels.provider_form import ProviderConfigForm
from notifications.history import admin as history_admin  # noqa: F401 - registers Erasure
from notifications.models import (
    Contact,
    DeliveryAttempt,
    Device,
    Event,
    InAppMessage,
    NotificationRecord,
    NotificationTemplate,
    Preference,
    ProviderConfig,
    RejectedEvent,
    Tenant,
)
from notifications.rules import admin as rules_admin  # noqa: F401 - registers RuleSet
from notifications.security import redact
from notifications.tenant_types import admin as tenant_types_admin  # noqa: F401 - registers TenantEventType


def _pretty(value: Any) -> str:
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, indent=2, default=str))


class TenantForm(forms.ModelForm):
    class Meta:
        model = Tenant
        fields = "__all__"

    def clean(self) -> dict[str, Any]:
        from notifications.scheduling.settings import critical_delay_problems

        cleaned = super().clean() or {}
        for key, problem in critical_delay_problems(cleaned.get("settings")).items():
            self.add_error("settings", f"{key}: {problem}")
        return cleaned


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    form = TenantForm
    list_display = ("id", "name", "app_url", "created_at")
    search_fields = ("id", "name")


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "locale", "tenant", "channel", "is_active", "version", "updated_at")
    list_filter = ("channel", "locale", "is_active", "tenant")
    search_fields = ("name",)
    readonly_fields = ("rendered_preview", "version", "created_at", "updated_at")

    @admin.display(description="preview (example data)")
    def rendered_preview(self, obj: NotificationTemplate) -> str:
        from ninja.errors import HttpError

        from notifications.api.preview import preview
        from notifications.events.registry import event_registry

        if obj.pk is None:
            return "Save the template to see a preview."
        found = event_registry.handler_for_template_name(obj.name, obj.tenant_id)
        if found is None:
            return "No registered event type for this name."
        try:
            result = preview(obj.tenant_id, found[0], obj.channel, obj.content, None, locale=obj.locale)
        except (HttpError, Exception) as err:  # noqa: BLE001 - shown to the operator instead of a 500
            return f"Cannot render: {getattr(err, 'message', None) or err}"
        fields = {k: v for k, v in result["fields"].items() if k != "html"}
        html = result["fields"].get("html")
        return format_html(
            "{}{}", _pretty(fields),
            format_html('<iframe sandbox="" style="width:100%;height:320px;border:1px solid #ccc" srcdoc="{}">'
                        "</iframe>", html) if html else "",
        )


@admin.register(NotificationRecord)
class NotificationRecordAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "event_type", "channel", "status", "reason", "attempts", "created_at", "sent_at")
    list_filter = ("status", "channel", "event_type", "tenant")
    search_fields = ("user_id", "recipient", "provider_message_id")
    readonly_fields = [f.name for f in NotificationRecord._meta.fields]
    actions = ["retry_now"]

    @admin.action(description="Retry selected failed records now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[NotificationRecord]) -> None:
        from notifications.delivery.requeue import requeue

        count = requeue(queryset)
        self.message_user(request, f"{count} record(s) queued for delivery", messages.SUCCESS)


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "event_type", "user_id", "source", "occurred_at", "received_at")
    list_filter = ("event_type", "tenant", "source")
    search_fields = ("id", "event_id", "user_id")
    exclude = ("payload", "metadata")
    readonly_fields = ("shown_payload", "shown_metadata",
                       *[f.name for f in Event._meta.fields if f.name not in ("payload", "metadata")])

    @admin.display(description="payload (secrets masked)")
    def shown_payload(self, obj: Event) -> str:
        return _pretty(redact({k: v for k, v in obj.payload.items()}))

    @admin.display(description="metadata (secrets masked)")
    def shown_metadata(self, obj: Event) -> str:
        return _pretty(redact(obj.metadata))


@admin.register(RejectedEvent)
class RejectedEventAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "reason", "tenant_id", "event_type", "source", "reprocessed_at")
    list_filter = ("reason", "source")
    search_fields = ("tenant_id", "event_type", "detail")
    exclude = ("original_encrypted",)
    readonly_fields = [f.name for f in RejectedEvent._meta.fields if f.name != "original_encrypted"]
    actions = ["reprocess"]

    @admin.action(description="Reprocess selected rejected events")
    def reprocess(self, request: HttpRequest, queryset: QuerySet[RejectedEvent]) -> None:
        # Imported here: admin is loaded by every process (django.setup), and intake's modules cost a worker
        # 0.2 s of its start.
        from notifications.intake.reprocess import reprocess_rejected

        done = reprocess_rejected(list(queryset))
        ok = sum(1 for _, result in done if result.ok)
        self.message_user(request, f"{ok} of {len(done)} accepted on reprocessing", messages.INFO)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("user_id", "tenant", "email", "phone", "first_name", "last_name", "locale", "timezone")
    list_filter = ("tenant",)
    search_fields = ("user_id", "email", "phone")

    def get_form(self, request: Any, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """Contact.clean() checks both fields (scheduling/zones.py, scheduling/quiet_hours.py)."""
        kwargs["help_texts"] = {
            "timezone": "IANA time zone, e.g. Europe/Berlin; blank: the tenant's default_timezone, else UTC",
            "quiet_hours": 'e.g. {"start": "22:00", "end": "07:00", "channels": ["push", "sms"]}; '
                           '{"off": true}: none; {}: the tenant\'s',
        }
        return super().get_form(request, obj, change, **kwargs)


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin):
    list_display = ("user_id", "tenant", "event_type", "channel", "enabled")
    list_filter = ("tenant", "enabled")


@admin.register(InAppMessage)
class InAppMessageAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "user_id", "event_type", "shown_title", "created_at", "read_at")
    list_filter = ("tenant", "event_type")
    search_fields = ("user_id",)
    exclude = ("title", "body")
    readonly_fields = ("shown_title", "shown_body", "record", "event_type", "action_url", "data", "expires_at")

    def _secret_bearing(self, obj: InAppMessage) -> bool:
        from notifications.events.registry import event_registry

        handler = event_registry.get_handler(obj.event_type)
        return bool(handler and handler.sensitive_fields)

    @admin.display(description="title")
    def shown_title(self, obj: InAppMessage) -> str:
        return "[hidden: may hold a secret]" if self._secret_bearing(obj) else obj.title

    @admin.display(description="body")
    def shown_body(self, obj: InAppMessage) -> str:
        return "[hidden: may hold a secret]" if self._secret_bearing(obj) else obj.body


@admin.register(ProviderConfig)
class ProviderConfigAdmin(admin.ModelAdmin):
    form = ProviderConfigForm  # checks channel, options and credentials against the provider's declaration
    list_display = ("id", "tenant", "channel", "priority", "provider", "enabled")
    list_filter = ("channel", "provider", "enabled")
    readonly_fields = ("credentials_shown",)

    @admin.display(description="stored credentials (encrypted, never shown)")
    def credentials_shown(self, obj: ProviderConfig) -> str:
        return ", ".join(f"{k}: ********" for k in obj.credentials) or "-"


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("id", "tenant", "user_id", "platform", "active", "deactivated_reason", "updated_at")
    list_filter = ("platform", "active", "tenant")
    search_fields = ("user_id",)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(admin.ModelAdmin):
    list_display = ("id", "record", "provider", "started_at", "duration_ms", "outcome", "error_code")
    list_filter = ("outcome", "provider")
