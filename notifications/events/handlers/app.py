"""Application events: billing (a payment failed, a payment succeeded), tasks, mentions, likes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from pydantic import Field, field_validator

from notifications.enums import Channel
from notifications.events.base_handler import BaseEventHandler
from notifications.events.handlers.fields import (
    AMOUNT_DECIMAL_PLACES,
    MAX_AMOUNT,
    MAX_COUNT,
    OptionalDateTime,
    OptionalText,
    RequiredText,
    UserPayload,
)
from notifications.events.handlers.texts import (
    GREETING,
    LIKED_QUOTED_POST,
    LIKED_QUOTED_TITLE,
    LIKED_YOUR_POST,
    LIKED_YOUR_TITLE,
    catalog,
    code_text,
)
from notifications.formatting import (
    format_date,
    format_datetime,
    format_money,
)


class InvoicePayload(UserPayload):
    """An invoice's payment. `amount` is below MAX_AMOUNT with at most AMOUNT_DECIMAL_PLACES decimals (a
    currency's minor units)."""
    invoice_id: RequiredText
    amount: Decimal = Field(ge=0, lt=MAX_AMOUNT, decimal_places=AMOUNT_DECIMAL_PLACES)
    currency: str = Field(min_length=3, max_length=3)

    @field_validator("currency")
    @classmethod
    def _upper(cls, value: str) -> str:
        if not value.isalpha():
            raise ValueError("currency must be a three-letter ISO 4217 code")
        return value.upper()


class InvoicePaymentFailedPayload(InvoicePayload):
    failure_reason: OptionalText = None
    next_retry_date: OptionalDateTime = None
    payment_method: OptionalText = None
    payment_link: OptionalText = None


class InvoicePaymentFailedHandler(BaseEventHandler):
    event_types = ("invoice.payment.failed",)
    channels = (Channel.EMAIL, Channel.SMS, Channel.PUSH)
    payload_model = InvoicePaymentFailedPayload
    placeholders = ("amount_formatted", "failure_reason_text", "payment_method_text", "next_retry_text")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}Payment of {{ amount_formatted }} failed for invoice {{ invoice_id }}{% endtrans %}",
            "body": GREETING + """
{% if payment_method_text %}{% trans %}We could not collect the payment of {{ amount_formatted }} for invoice {{ invoice_id }} with your {{ payment_method_text }}.{% endtrans %}{% else %}{% trans %}We could not collect the payment of {{ amount_formatted }} for invoice {{ invoice_id }}.{% endtrans %}{% endif +%}
{% if failure_reason_text %}{% trans %}Reason: {{ failure_reason_text }}.{% endtrans +%}
{% endif %}
{% if next_retry_text %}{% trans %}We will try again on {{ next_retry_text }}.{% endtrans +%}
{% endif %}

{% if payment_link %}{% trans %}To avoid an interruption, update your payment details at {{ payment_link }}.{% endtrans %}{% else %}{% trans %}To avoid an interruption, update your payment details at {{ app_url }}.{% endtrans %}{% endif +%}

{% trans %}The {{ company_name }} team{% endtrans +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.SMS: {
            "body": "{% if failure_reason_text %}{% trans %}{{ company_name }}: payment of {{ amount_formatted }} for "
            "invoice {{ invoice_id }} failed ({{ failure_reason_text }}). Please update your payment details."
            "{% endtrans %}{% else %}{% trans %}{{ company_name }}: payment of {{ amount_formatted }} for invoice "
            "{{ invoice_id }} failed. Please update your payment details.{% endtrans %}{% endif %}",
        },
        Channel.PUSH: {
            "title": "{% trans %}Payment failed{% endtrans %}",
            "body": "{% trans %}Your payment of {{ amount_formatted }} for invoice {{ invoice_id }} failed. "
            "Tap to update your payment details.{% endtrans %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        locale = context["locale"]
        context["amount_formatted"] = format_money(context["amount"], context["currency"], locale)
        context["failure_reason_text"] = code_text(context, context.get("failure_reason"))
        context["payment_method_text"] = code_text(context, context.get("payment_method"))
        retry = context.get("next_retry_date")
        context["next_retry_text"] = format_date(retry, locale) if retry else ""
        return context


class InvoicePaymentSucceededPayload(InvoicePayload):
    """A collected payment. It supersedes a pending "payment failed" notification of the same invoice_id
    (scheduling/supersede.py)."""
    paid_at: OptionalDateTime = None
    payment_method: OptionalText = None
    receipt_link: OptionalText = None


class InvoicePaymentSucceededHandler(BaseEventHandler):
    event_types = ("invoice.payment.succeeded",)
    channels = (Channel.EMAIL, Channel.IN_APP)
    payload_model = InvoicePaymentSucceededPayload
    placeholders = ("amount_formatted", "payment_method_text", "paid_at_text")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% trans %}Payment of {{ amount_formatted }} received for invoice {{ invoice_id }}"
            "{% endtrans %}",
            "body": GREETING + """
{% if payment_method_text and paid_at_text %}{% trans %}We received your payment of {{ amount_formatted }} for invoice {{ invoice_id }} by {{ payment_method_text }} on {{ paid_at_text }}. Thank you.{% endtrans %}{% elif payment_method_text %}{% trans %}We received your payment of {{ amount_formatted }} for invoice {{ invoice_id }} by {{ payment_method_text }}. Thank you.{% endtrans %}{% elif paid_at_text %}{% trans %}We received your payment of {{ amount_formatted }} for invoice {{ invoice_id }} on {{ paid_at_text }}. Thank you.{% endtrans %}{% else %}{% trans %}We received your payment of {{ amount_formatted }} for invoice {{ invoice_id }}. Thank you.{% endtrans %}{% endif +%}
{% if receipt_link %}
{% trans %}Your receipt: {{ receipt_link }}{% endtrans +%}
{% endif %}

{% trans %}The {{ company_name }} team{% endtrans +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.IN_APP: {
            "title": "{% trans %}Payment received{% endtrans %}",
            "body": "{% trans %}Your payment of {{ amount_formatted }} for invoice {{ invoice_id }} was received."
            "{% endtrans %}",
            "action_url": "{{ receipt_link or app_url }}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        locale = context["locale"]
        context["amount_formatted"] = format_money(context["amount"], context["currency"], locale)
        context["payment_method_text"] = code_text(context, context.get("payment_method"))
        paid = context.get("paid_at")
        context["paid_at_text"] = format_date(paid, locale) if paid else ""
        return context


class TaskAssignedPayload(UserPayload):
    """`task_id` identifies the task; `task_title` and the rest are display-only (docs/events-and-templates.md)."""
    task_id: RequiredText
    task_title: OptionalText = None
    task_description: OptionalText = None
    assigned_by: OptionalText = None
    due_date: OptionalDateTime = None
    priority: OptionalText = None
    task_link: OptionalText = None


class TaskAssignedHandler(BaseEventHandler):
    event_types = ("task.assigned",)
    channels = (Channel.EMAIL, Channel.IN_APP, Channel.PUSH)
    payload_model = TaskAssignedPayload
    placeholders = ("due_date_text", "priority_text", "assigner")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% if task_title %}{% trans %}New task: {{ task_title }}{% endtrans %}{% else %}"
            "{% trans %}You have a new task{% endtrans %}{% endif %}",
            "body": GREETING + """
{% if task_title %}{% trans who=assigner %}{{ who }} assigned you a task: {{ task_title }}{% endtrans %}{% else %}{% trans who=assigner %}{{ who }} assigned you a task.{% endtrans %}{% endif %}
{% if task_description %}

{{ task_description }}
{% endif %}

{% if priority_text %}{% trans %}Priority: {{ priority_text }}{% endtrans +%}
{% endif %}
{% if due_date_text %}{% trans %}Due: {{ due_date_text }}{% endtrans +%}
{% endif %}

{% trans link=task_link or app_url %}Open the task: {{ link }}{% endtrans +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.IN_APP: {
            "title": "{% if task_title %}{% trans %}New task: {{ task_title }}{% endtrans %}{% else %}"
            "{% trans %}You have a new task{% endtrans %}{% endif %}",
            "body": "{% if due_date_text %}{% trans who=assigner %}{{ who }} assigned you this task, due "
            "{{ due_date_text }}.{% endtrans %}{% else %}{% trans who=assigner %}{{ who }} assigned you this task."
            "{% endtrans %}{% endif %}",
            "action_url": "{{ task_link or app_url }}",
        },
        Channel.PUSH: {
            "title": "{% trans %}New task assigned{% endtrans %}",
            "body": "{% if task_title and due_date_text %}{% trans %}{{ task_title }} (due {{ due_date_text }})"
            "{% endtrans %}{% elif task_title %}{{ task_title }}{% elif due_date_text %}{% trans %}Tap to see your "
            "new task (due {{ due_date_text }}){% endtrans %}{% else %}{% trans %}Tap to see your new task"
            "{% endtrans %}{% endif %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        due = context.get("due_date")
        context["due_date_text"] = format_datetime(due, context["locale"]) if due else ""
        context["priority_text"] = code_text(context, context.get("priority")).capitalize()
        context["assigner"] = context.get("assigned_by") or catalog(context).gettext("Someone")
        return context


class CommentMentionedPayload(UserPayload):
    """`comment_id` identifies the comment; `mentioned_by` is display-only ("Someone" when missing)."""
    comment_id: RequiredText
    mentioned_by: OptionalText = None
    comment_text: OptionalText = None
    resource_title: OptionalText = None
    link: OptionalText = None


class CommentMentionedHandler(BaseEventHandler):
    event_types = ("comment.mentioned",)
    channels = (Channel.EMAIL, Channel.IN_APP, Channel.PUSH)
    payload_model = CommentMentionedPayload
    placeholders = ("comment_excerpt", "mentioner")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% if resource_title %}{% trans who=mentioner %}{{ who }} mentioned you in {{ resource_title }}"
            "{% endtrans %}{% else %}{% trans who=mentioner %}{{ who }} mentioned you{% endtrans %}{% endif %}",
            "body": GREETING + """
{% if resource_title %}{% trans who=mentioner %}{{ who }} mentioned you in a comment on {{ resource_title }}:{% endtrans %}{% else %}{% trans who=mentioner %}{{ who }} mentioned you in a comment:{% endtrans %}{% endif +%}
{% if comment_excerpt %}

"{{ comment_excerpt }}"
{% endif %}

{% trans link=link or app_url %}Reply: {{ link }}{% endtrans +%}
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.IN_APP: {
            "title": "{% trans who=mentioner %}{{ who }} mentioned you{% endtrans %}",
            "body": "{% if comment_excerpt %}{{ comment_excerpt }}{% else %}{% trans %}You were mentioned in a comment."
            "{% endtrans %}{% endif %}",
            "action_url": "{{ link or app_url }}",
        },
        Channel.PUSH: {
            "title": "{% trans who=mentioner %}{{ who }} mentioned you{% endtrans %}",
            "body": "{% if comment_excerpt %}{{ comment_excerpt }}{% else %}{% trans %}Tap to read the comment."
            "{% endtrans %}{% endif %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        context["mentioner"] = context.get("mentioned_by") or catalog(context).gettext("Someone")
        text = " ".join((context.get("comment_text") or "").split())
        context["comment_excerpt"] = text if len(text) <= 140 else text[:139].rstrip() + "…"
        return context


class ContentLikedPayload(UserPayload):
    """`content_id` identifies the content; `liked_by` is display-only ("Someone" when missing)."""
    content_id: RequiredText
    liked_by: OptionalText = None
    content_title: OptionalText = None
    like_count: int | None = Field(default=None, ge=0, le=MAX_COUNT)
    link: OptionalText = None


class ContentLikedHandler(BaseEventHandler):
    event_types = ("content.liked",)
    channels = (Channel.IN_APP, Channel.PUSH)
    payload_model = ContentLikedPayload
    placeholders = ("others_text", "others", "liker")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.IN_APP: {
            "title": "{% if content_title %}" + LIKED_YOUR_TITLE + "{% else %}" + LIKED_YOUR_POST + "{% endif %}",
            "body": "{% if content_title %}" + LIKED_QUOTED_TITLE + "{% else %}" + LIKED_QUOTED_POST + "{% endif %}",
            "action_url": "{{ link or app_url }}",
        },
        Channel.PUSH: {
            "title": "{% trans %}New like{% endtrans %}",
            "body": "{% if content_title %}" + LIKED_YOUR_TITLE + "{% else %}" + LIKED_YOUR_POST + "{% endif %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        tr = catalog(context)
        count = context.get("like_count") or 0
        others = max(count - 1, 0)
        context["others"] = others
        context["liker"] = context.get("liked_by") or tr.gettext("Someone")
        context["others_text"] = tr.ngettext(" and %(count)s other", " and %(count)s others", others) % {
            "count": others} if others else ""
        return context
