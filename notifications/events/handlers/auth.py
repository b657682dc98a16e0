"""Authentication events: registration, password reset, sign-in succeeded and failed."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar
from urllib.parse import quote

from pydantic import BeforeValidator, Field, model_validator

from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler
from notifications.events.handlers.fields import (
    MAX_COUNT,
    OptionalDateTime,
    OptionalText,
    RequiredText,
    UserPayload,
)
from notifications.events.handlers.texts import GREETING, catalog
from notifications.formatting import (
    as_datetime,
    format_datetime,
    format_duration,
)
from notifications.scheduling.zones import checked_zone

#: An IANA time zone name in its own spelling ("europe/berlin" -> "Europe/Berlin"); an unknown one is refused.
TimeZone = Annotated[str, BeforeValidator(checked_zone)]


class RegistrationPayload(UserPayload):
    username: OptionalText = None
    send_credentials: bool = False
    temp_password: OptionalText = None
    login_link: OptionalText = None
    #: The user's time zone, stored on their contact (times shown in it, quiet hours read in it).
    timezone: TimeZone = ""

    @model_validator(mode="after")
    def _credentials_complete(self) -> RegistrationPayload:
        if self.send_credentials and not self.temp_password:
            raise ValueError("temp_password is required when send_credentials is true")
        if not self.email:
            raise ValueError("email is required")
        return self


class UserRegistrationCompletedHandler(BaseEventHandler):
    event_types = ("user.registration.completed",)
    channels = (Channel.EMAIL, Channel.IN_APP)
    payload_model = RegistrationPayload
    sensitive_fields = frozenset({"temp_password"})
    fills_contacts = True
    placeholders = ("display_name", "login_identifier_label", "login_identifier")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}Welcome to {{ company_name }}, {{ display_name }}!{% endtrans %}",
            "body": """
{% trans %}Hi {{ display_name }},{% endtrans +%}

{% trans %}Welcome to {{ company_name }}! Your account has been created.{% endtrans +%}
{% if send_credentials %}

{% trans %}Your sign-in details:{% endtrans +%}
{{ login_identifier_label }}: {{ login_identifier }}
{% trans %}Temporary password: {{ temp_password }}{% endtrans +%}
{% trans %}Sign in here: {{ login_link }}{% endtrans +%}

{% trans %}Please change this temporary password after your first sign-in.{% endtrans +%}
{% endif %}

{% trans %}Best regards,{% endtrans +%}
{% trans %}The {{ company_name }} team{% endtrans +%}
""",
        },
        Channel.IN_APP: {
            "title": "{% trans %}Welcome to {{ company_name }}!{% endtrans %}",
            "body": "{% trans %}Hi {{ display_name }}, your account is ready. Take a look around.{% endtrans %}",
            "action_url": "{{ app_url }}",
        },
    }

    def get_contact_fields(self, payload: dict[str, Any]) -> dict[str, str]:
        """The base fields and the user's time zone: intake stores them on the contact (fills_contacts)."""
        fields = super().get_contact_fields(payload)
        if payload.get("timezone"):
            fields["timezone"] = str(payload["timezone"])
        return fields

    def get_template_data(self, payload: dict[str, Any]) -> dict[str, Any]:
        data = dict(payload)
        username = payload.get("username")
        data["login_identifier_label"] = "Username" if username else "Email"  # translated in finalize_context
        data["login_identifier"] = username or payload.get("email", "")
        data["display_name"] = payload.get("first_name") or username or payload.get("email", "")
        return data

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        tr = catalog(context)
        context["login_identifier_label"] = (tr.gettext("Username") if context.get("username")
                                             else tr.gettext("Email"))
        if context.get("send_credentials") and not context.get("login_link"):
            context["login_link"] = f"{context['app_url']}/login"
        return context


class PasswordResetPayload(UserPayload):
    reset_token: RequiredText
    expires_at: OptionalDateTime = None
    ip_address: OptionalText = None
    reset_link: OptionalText = None


class PasswordResetRequestedHandler(BaseEventHandler):
    event_types = ("user.password.reset.requested",)
    channels = (Channel.EMAIL, Channel.SMS)
    payload_model = PasswordResetPayload
    sensitive_fields = frozenset({"reset_token", "reset_link"})
    mandatory = True
    placeholders = ("expires_at_human", "expires_in")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}Reset your {{ company_name }} password{% endtrans %}",
            "body": GREETING + """
{% trans %}We received a request to reset the password of your {{ company_name }} account.{% endtrans +%}

{% trans %}Reset your password: {{ reset_link }}{% endtrans +%}
{% if expires_at_human %}
{% if expires_in %}{% trans %}This link expires on {{ expires_at_human }} (in {{ expires_in }}).{% endtrans %}{% else %}{% trans %}This link expires on {{ expires_at_human }}.{% endtrans %}{% endif +%}
{% endif %}
{% if ip_address %}
{% trans %}The request came from IP address {{ ip_address }}.{% endtrans +%}
{% endif %}

{% trans %}If you did not ask for this, ignore this message: your password stays the same.{% endtrans +%}

{% trans %}The {{ company_name }} team{% endtrans +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.SMS: {
            "body": "{% if expires_in %}{% trans %}{{ company_name }}: reset your password at {{ reset_link }} "
            "(expires in {{ expires_in }}). Not you? Ignore this message.{% endtrans %}{% else %}{% trans %}"
            "{{ company_name }}: reset your password at {{ reset_link }}. Not you? Ignore this message."
            "{% endtrans %}{% endif %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        if not context.get("reset_link"):
            context["reset_link"] = f"{context['app_url']}/reset-password?token={quote(context['reset_token'])}"
        # The guide publishes naive datetimes (utcnow().isoformat()): as_datetime reads them as UTC.
        expires_at = as_datetime(context.get("expires_at"))
        context["expires_at_human"] = format_datetime(expires_at, context["locale"]) if expires_at else ""
        occurred = as_datetime(context.get("event_timestamp"))
        context["expires_in"] = ""
        if expires_at and occurred and expires_at > occurred:
            context["expires_in"] = format_duration(expires_at - occurred, context["locale"])
        return context


class LoginSucceededPayload(UserPayload):
    ip_address: OptionalText = None
    user_agent: OptionalText = None
    device: OptionalText = None
    location: OptionalText = None
    login_at: OptionalDateTime = None


class LoginSucceededHandler(BaseEventHandler):
    event_types = ("user.login.succeeded",)
    security_alert = True
    channels = (Channel.EMAIL,)
    payload_model = LoginSucceededPayload
    placeholders = ("login_time", "device_description")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}New sign-in to your {{ company_name }} account{% endtrans %}",
            "body": GREETING + """
{% trans %}Your {{ company_name }} account was just signed in to.{% endtrans +%}

{% trans %}When: {{ login_time }}{% endtrans +%}
{% if device_description %}{% trans %}Device: {{ device_description }}{% endtrans +%}
{% endif %}
{% if location %}{% trans %}Location: {{ location }}{% endtrans +%}
{% endif %}
{% if ip_address %}{% trans %}IP address: {{ ip_address }}{% endtrans +%}
{% endif %}

{% if support_email %}{% trans %}If this was you, there is nothing to do. If not, reset your password now at {{ app_url }} and contact {{ support_email }}.{% endtrans %}{% else %}{% trans %}If this was you, there is nothing to do. If not, reset your password now at {{ app_url }} and contact support.{% endtrans %}{% endif +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        context["login_time"] = format_datetime(
            context.get("login_at") or context.get("event_timestamp"), context["locale"]
        )
        context["device_description"] = context.get("device") or context.get("user_agent") or ""
        return context


class LoginFailedPayload(UserPayload):
    ip_address: OptionalText = None
    location: OptionalText = None
    attempt_count: int = Field(default=1, ge=0, le=MAX_COUNT)
    failure_reason: OptionalText = None
    attempted_at: OptionalDateTime = None


class LoginFailedHandler(BaseEventHandler):
    event_types = ("user.login.failed",)
    security_alert = True
    channels = (Channel.EMAIL, Channel.SMS, Channel.PUSH)
    payload_model = LoginFailedPayload
    placeholders = ("attempt_time",)
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}Security alert: failed sign-in to your {{ company_name }} account{% endtrans %}",
            "body": GREETING + """
{% trans count=attempt_count %}We blocked {{ count }} failed sign-in attempt to your {{ company_name }} account on {{ attempt_time }}.{% pluralize %}We blocked {{ count }} failed sign-in attempts to your {{ company_name }} account on {{ attempt_time }}.{% endtrans +%}
{% if location %}{% trans %}Location: {{ location }}{% endtrans +%}
{% endif %}
{% if ip_address %}{% trans %}IP address: {{ ip_address }}{% endtrans +%}
{% endif %}

{% trans %}If this was not you, change your password at {{ app_url }} and turn on two-factor authentication.{% endtrans +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.SMS: {
            "body": "{% if location %}{% trans count=attempt_count %}{{ company_name }} security alert: {{ count }} "
            "failed sign-in attempt on your account from {{ location }}. Not you? Change your password."
            "{% pluralize %}{{ company_name }} security alert: {{ count }} failed sign-in attempts on your account "
            "from {{ location }}. Not you? Change your password.{% endtrans %}{% else %}"
            "{% trans count=attempt_count %}{{ company_name }} security alert: {{ count }} failed sign-in attempt "
            "on your account. Not you? Change your password.{% pluralize %}{{ company_name }} security alert: "
            "{{ count }} failed sign-in attempts on your account. Not you? Change your password.{% endtrans %}"
            "{% endif %}",
        },
        Channel.PUSH: {
            "title": "{% trans %}Failed sign-in attempt{% endtrans %}",
            "body": "{% if location %}{% trans count=attempt_count %}{{ count }} failed sign-in attempt from "
            "{{ location }}. Was this you?{% pluralize %}{{ count }} failed sign-in attempts from {{ location }}. "
            "Was this you?{% endtrans %}{% else %}{% trans count=attempt_count %}{{ count }} failed sign-in "
            "attempt. Was this you?{% pluralize %}{{ count }} failed sign-in attempts. Was this you?{% endtrans %}"
            "{% endif %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        context["attempt_time"] = format_datetime(
            context.get("attempted_at") or context.get("event_timestamp"), context["locale"]
        )
        return context


__all__ = [
    "LoginFailedHandler",
    "LoginSucceededHandler",
    "PasswordResetRequestedHandler",
    "UserRegistrationCompletedHandler",
]
