"""Example payloads of the built-in event types (the guide's payloads where it gives them): what preview and the
template save check render with, what `notifications.testing.make_event` builds events from. A handler of another
event type declares its own by overriding `BaseEventHandler.example_payload`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

EXAMPLE_TIME = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

EXAMPLE_PAYLOADS: dict[str, dict[str, Any]] = {
    "user.registration.completed": {
        "user_id": "u-1", "username": "johndoe", "email": "john@example.com", "first_name": "John",
        "last_name": "Doe", "send_credentials": True, "temp_password": "TempPass123!",
        "login_link": "https://app.example.com/login",
    },
    "user.password.reset.requested": {
        "user_id": "u-1", "email": "john@example.com", "phone": "+14155550123", "reset_token": "rst-tok-9f8e7d",
        "expires_at": (EXAMPLE_TIME + timedelta(hours=1)).isoformat(), "ip_address": "203.0.113.7",
    },
    "user.login.succeeded": {
        "user_id": "u-1", "email": "john@example.com", "ip_address": "203.0.113.7", "location": "Berlin, DE",
        "device": "Firefox on Linux",
    },
    "user.login.failed": {
        "user_id": "u-1", "email": "john@example.com", "phone": "+14155550123", "ip_address": "198.51.100.4",
        "attempt_count": 3, "location": "Lagos, NG",
    },
    "invoice.payment.failed": {
        "user_id": "u-1", "email": "john@example.com", "phone": "+14155550123", "invoice_id": "INV-1001",
        "amount": 1234.5, "currency": "USD", "failure_reason": "insufficient_funds",
        "next_retry_date": (EXAMPLE_TIME + timedelta(days=3)).isoformat(), "payment_method": "credit_card",
    },
    "invoice.payment.succeeded": {
        "user_id": "u-1", "email": "john@example.com", "invoice_id": "INV-1001", "amount": 1234.5, "currency": "USD",
        "paid_at": (EXAMPLE_TIME + timedelta(days=1)).isoformat(), "payment_method": "credit_card",
        "receipt_link": "https://app.example.com/receipts/INV-1001",
    },
    "task.assigned": {
        "user_id": "u-1", "email": "john@example.com", "task_id": "T-42", "task_title": "Review Q4 budget",
        "task_description": "Check the numbers before Friday.", "assigned_by": "Jane Smith",
        "due_date": (EXAMPLE_TIME + timedelta(days=2)).isoformat(), "priority": "high",
    },
    "comment.mentioned": {
        "user_id": "u-1", "email": "john@example.com", "comment_id": "C-7", "mentioned_by": "Jane Smith",
        "comment_text": "@john can you check this?", "resource_title": "Launch plan",
        "link": "https://app.example.com/c/7",
    },
    "content.liked": {
        "user_id": "u-1", "content_id": "P-9", "liked_by": "Jane Smith", "content_title": "My first post",
        "like_count": 3,
    },
    "auth.2fa.code.requested": {
        "user_id": "u-1", "email": "john@example.com", "phone": "+14155550123", "code": "839201",
        "method": "sms", "expires_in_minutes": 5,
    },
    "auth.2fa.attempt.failed": {
        "user_id": "u-1", "email": "john@example.com", "phone": "+14155550123", "method": "sms",
        "ip_address": "198.51.100.4", "attempt_count": 2,
    },
    "auth.2fa.method.changed": {
        "user_id": "u-1", "email": "john@example.com", "phone": "+14155550123", "old_method": "sms",
        "new_method": "authenticator_app", "ip_address": "203.0.113.7",
    },
    "notification.cancel": {"cancel_key": "reminder:appointment-42"},
}

#: What an event type without an example is previewed with.
SAMPLE_FALLBACK: dict[str, Any] = {"user_id": "preview-user"}
