"""Security events: two-factor codes, failed 2FA attempts, changed 2FA method."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar

from pydantic import Field, field_validator

from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler
from notifications.events.handlers.fields import (
    MAX_COUNT,
    OptionalDateTime,
    OptionalText,
    RequiredText,
    UserPayload,
)
from notifications.events.handlers.texts import GREETING, catalog, code_text
from notifications.formatting import format_datetime

CODE_CHANNELS = (Channel.SMS, Channel.EMAIL, Channel.IN_APP)


class TwoFactorCodePayload(UserPayload):
    code: RequiredText = Field(max_length=32)
    method: str
    expires_in_minutes: int | None = Field(default=None, gt=0, le=1440)
    expires_at: OptionalDateTime = None
    ip_address: OptionalText = None

    @field_validator("method", mode="before")
    @classmethod
    def _method(cls, value: Any) -> str:
        try:
            channel = Channel.parse(str(value))
        except ValueError as err:
            raise ValueError(f"method must be one of: {', '.join(c.value for c in CODE_CHANNELS)}") from err
        if channel not in CODE_CHANNELS:
            raise ValueError(f"method must be one of: {', '.join(c.value for c in CODE_CHANNELS)}")
        return channel.value


class TwoFactorCodeRequestedHandler(BaseEventHandler):
    event_types = ("auth.2fa.code.requested",)
    channels = CODE_CHANNELS
    payload_model = TwoFactorCodePayload
    sensitive_fields = frozenset({"code"})
    mandatory = True
    placeholders = ("validity_text",)
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.SMS: {
            "body": "{% trans %}{{ code }} is your {{ company_name }} verification code. It expires "
            "{{ validity_text }}. Never share it with anyone.{% endtrans %}",
        },
        Channel.EMAIL: {
            "subject": "{% trans %}Your {{ company_name }} verification code{% endtrans %}",
            "body": """
{% trans %}Your verification code is: {{ code }}{% endtrans +%}

{% trans %}It expires {{ validity_text }}. {{ company_name }} will never ask you for this code.{% endtrans +%}
{% trans %}If you did not try to sign in, change your password now.{% endtrans +%}
""",
        },
        Channel.IN_APP: {
            "title": "{% trans %}Your verification code{% endtrans %}",
            "body": "{% trans %}Your code is {{ code }}. It expires {{ validity_text }}.{% endtrans %}",
        },
    }

    def inbox_ttl(self, payload: dict[str, Any]) -> timedelta | None:
        return timedelta(minutes=int(payload.get("expires_in_minutes") or 10))

    def get_channels(self, event_type: str, payload: dict[str, Any]) -> tuple[Channel, ...]:
        # The code goes only where the user asked for it.
        return (Channel(payload["method"]),)

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        tr = catalog(context)
        if context.get("expires_at"):
            when = format_datetime(context["expires_at"], context["locale"])
            context["validity_text"] = tr.gettext("on %(when)s") % {"when": when}
        else:
            minutes = context.get("expires_in_minutes") or 10
            context["validity_text"] = tr.ngettext("in %(count)s minute", "in %(count)s minutes", minutes) % {
                "count": minutes}
        return context


class TwoFactorAttemptFailedPayload(UserPayload):
    method: OptionalText = None
    ip_address: OptionalText = None
    location: OptionalText = None
    attempt_count: int = Field(default=1, ge=1, le=MAX_COUNT)


class TwoFactorAttemptFailedHandler(BaseEventHandler):
    event_types = ("auth.2fa.attempt.failed",)
    security_alert = True
    channels = (Channel.EMAIL, Channel.SMS, Channel.PUSH)
    payload_model = TwoFactorAttemptFailedPayload
    placeholders = ("attempt_time", "method_text")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}Security alert: failed verification on your {{ company_name }} account"
            "{% endtrans %}",
            "body": GREETING + """
{% if method_text %}{% trans count=attempt_count %}Someone entered your password correctly but failed two-factor verification ({{ method_text }}) {{ count }} time on {{ attempt_time }}.{% pluralize %}Someone entered your password correctly but failed two-factor verification ({{ method_text }}) {{ count }} times on {{ attempt_time }}.{% endtrans %}{% else %}{% trans count=attempt_count %}Someone entered your password correctly but failed two-factor verification {{ count }} time on {{ attempt_time }}.{% pluralize %}Someone entered your password correctly but failed two-factor verification {{ count }} times on {{ attempt_time }}.{% endtrans %}{% endif +%}
{% if location %}{% trans %}Location: {{ location }}{% endtrans +%}
{% endif %}
{% if ip_address %}{% trans %}IP address: {{ ip_address }}{% endtrans +%}
{% endif %}

{% trans %}If this was not you, your password is known to someone else: change it now at {{ app_url }}.{% endtrans +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.SMS: {
            "body": "{% trans count=attempt_count %}{{ company_name }} security alert: {{ count }} failed verification "
            "attempt on your account. Not you? Change your password now.{% pluralize %}{{ company_name }} security "
            "alert: {{ count }} failed verification attempts on your account. Not you? Change your password now."
            "{% endtrans %}",
        },
        Channel.PUSH: {
            "title": "{% trans %}Failed verification attempt{% endtrans %}",
            "body": "{% trans %}Someone failed two-factor verification on your account. Was this you?{% endtrans %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        context["attempt_time"] = format_datetime(context.get("event_timestamp"), context["locale"])
        context["method_text"] = code_text(context, context.get("method"))
        return context


class TwoFactorMethodChangedPayload(UserPayload):
    old_method: OptionalText = None
    new_method: RequiredText
    changed_at: OptionalDateTime = None
    ip_address: OptionalText = None


class TwoFactorMethodChangedHandler(BaseEventHandler):
    event_types = ("auth.2fa.method.changed",)
    security_alert = True
    channels = (Channel.EMAIL, Channel.SMS, Channel.IN_APP)
    payload_model = TwoFactorMethodChangedPayload
    placeholders = ("changed_time", "old_method_text", "new_method_text")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}Your two-factor authentication method was changed{% endtrans %}",
            "body": GREETING + """
{% if old_method_text %}{% trans %}The two-factor authentication method of your {{ company_name }} account was changed from {{ old_method_text }} to {{ new_method_text }} on {{ changed_time }}.{% endtrans %}{% else %}{% trans %}The two-factor authentication method of your {{ company_name }} account was changed to {{ new_method_text }} on {{ changed_time }}.{% endtrans %}{% endif +%}
{% if ip_address %}{% trans %}IP address: {{ ip_address }}{% endtrans +%}
{% endif %}

{% if support_email %}{% trans %}If you did not make this change, secure your account now at {{ app_url }} and contact {{ support_email }}.{% endtrans %}{% else %}{% trans %}If you did not make this change, secure your account now at {{ app_url }} and contact support.{% endtrans %}{% endif +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.SMS: {
            "body": "{% trans %}{{ company_name }}: your two-factor method was changed to {{ new_method_text }}. "
            "Not you? Secure your account now.{% endtrans %}",
        },
        Channel.IN_APP: {
            "title": "{% trans %}Two-factor method changed{% endtrans %}",
            "body": "{% trans %}Your two-factor authentication method is now {{ new_method_text }}.{% endtrans %}",
            "action_url": "{{ app_url }}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        context["changed_time"] = format_datetime(
            context.get("changed_at") or context.get("event_timestamp"), context["locale"]
        )
        context["old_method_text"] = code_text(context, context.get("old_method"))
        context["new_method_text"] = code_text(context, context.get("new_method"))
        return context
