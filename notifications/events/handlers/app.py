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
from notifications.formatting import (
    format_date,
    format_datetime,
    format_money,
    humanize_code,
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
            "subject": "Payment of {{ amount_formatted }} failed for invoice {{ invoice_id }}",
            "body": """
Hi {{ first_name or "there" }},

We could not collect the payment of {{ amount_formatted }} for invoice {{ invoice_id }}{% if payment_method_text %} with your {{ payment_method_text }}{% endif %}.
{% if failure_reason_text %}Reason: {{ failure_reason_text }}.
{% endif %}
{% if next_retry_text %}We will try again on {{ next_retry_text }}.
{% endif %}

To avoid an interruption, update your payment details{% if payment_link %} at {{ payment_link }}{% else %} at {{ app_url }}{% endif %}.

The {{ company_name }} team
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.SMS: {
            "body": "{{ company_name }}: payment of {{ amount_formatted }} for invoice {{ invoice_id }} failed"
            "{% if failure_reason_text %} ({{ failure_reason_text }}){% endif %}. Please update your payment details.",
        },
        Channel.PUSH: {
            "title": "Payment failed",
            "body": "Your payment of {{ amount_formatted }} for invoice {{ invoice_id }} failed. "
            "Tap to update your payment details.",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        locale = context["locale"]
        context["amount_formatted"] = format_money(context["amount"], context["currency"], locale)
        context["failure_reason_text"] = humanize_code(context.get("failure_reason"))
        context["payment_method_text"] = humanize_code(context.get("payment_method"))
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
            "subject": "Payment of {{ amount_formatted }} received for invoice {{ invoice_id }}",
            "body": """
Hi {{ first_name or "there" }},

We received your payment of {{ amount_formatted }} for invoice {{ invoice_id }}{% if payment_method_text %} by {{ payment_method_text }}{% endif %}{% if paid_at_text %} on {{ paid_at_text }}{% endif %}. Thank you.
{% if receipt_link %}
Your receipt: {{ receipt_link }}
{% endif %}

The {{ company_name }} team
""",  # noqa: E501 - each line of the text is a paragraph of the message
        },
        Channel.IN_APP: {
            "title": "Payment received",
            "body": "Your payment of {{ amount_formatted }} for invoice {{ invoice_id }} was received.",
            "action_url": "{{ receipt_link or app_url }}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        locale = context["locale"]
        context["amount_formatted"] = format_money(context["amount"], context["currency"], locale)
        context["payment_method_text"] = humanize_code(context.get("payment_method"))
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
    placeholders = ("due_date_text", "priority_text")
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{% if task_title %}New task: {{ task_title }}{% else %}You have a new task{% endif %}",
            "body": """
Hi {{ first_name or "there" }},

{{ assigned_by or "Someone" }} assigned you a task{% if task_title %}: {{ task_title }}{% else %}.{% endif %}
{% if task_description %}

{{ task_description }}
{% endif %}

{% if priority_text %}Priority: {{ priority_text }}
{% endif %}
{% if due_date_text %}Due: {{ due_date_text }}
{% endif %}

Open the task: {{ task_link or app_url }}
""",
        },
        Channel.IN_APP: {
            "title": "{% if task_title %}New task: {{ task_title }}{% else %}You have a new task{% endif %}",
            "body": "{{ assigned_by or 'Someone' }} assigned you this task"
            "{% if due_date_text %}, due {{ due_date_text }}{% endif %}.",
            "action_url": "{{ task_link or app_url }}",
        },
        Channel.PUSH: {
            "title": "New task assigned",
            "body": "{{ task_title or 'Tap to see your new task' }}{% if due_date_text %} (due {{ due_date_text }})"
            "{% endif %}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        due = context.get("due_date")
        context["due_date_text"] = format_datetime(due, context["locale"]) if due else ""
        context["priority_text"] = humanize_code(context.get("priority")).capitalize()
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
    placeholders = ("comment_excerpt",)
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.EMAIL: {
            "subject": "{{ mentioned_by or 'Someone' }} mentioned you{% if resource_title %} in {{ resource_title }}"
            "{% endif %}",
            "body": """
Hi {{ first_name or "there" }},

{{ mentioned_by or "Someone" }} mentioned you in a comment{% if resource_title %} on {{ resource_title }}{% endif %}:
{% if comment_excerpt %}

"{{ comment_excerpt }}"
{% endif %}

Reply: {{ link or app_url }}
""",
        },
        Channel.IN_APP: {
            "title": "{{ mentioned_by or 'Someone' }} mentioned you",
            "body": "{{ comment_excerpt or 'You were mentioned in a comment.' }}",
            "action_url": "{{ link or app_url }}",
        },
        Channel.PUSH: {
            "title": "{{ mentioned_by or 'Someone' }} mentioned you",
            "body": "{{ comment_excerpt or 'Tap to read the comment.' }}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
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
    placeholders = ("others_text",)
    default_templates: ClassVar[dict[Channel, dict[str, str]]] = {
        Channel.IN_APP: {
            "title": "{{ liked_by or 'Someone' }}{{ others_text }} liked your {{ content_title or 'post' }}",
            "body": "{{ liked_by or 'Someone' }}{{ others_text }} liked \"{{ content_title or 'your post' }}\".",
            "action_url": "{{ link or app_url }}",
        },
        Channel.PUSH: {
            "title": "New like",
            "body": "{{ liked_by or 'Someone' }}{{ others_text }} liked your {{ content_title or 'post' }}",
        },
    }

    def finalize_context(self, context: dict[str, Any]) -> dict[str, Any]:
        count = context.get("like_count") or 0
        others = count - 1
        context["others_text"] = f" and {others} other{'s' if others != 1 else ''}" if others > 0 else ""
        return context
