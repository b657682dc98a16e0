"""The benchmark tenant's 20 rules (bench/intake_cost.py --rules): spread over the bench mix's event types
(common.TYPES), most with a condition on payload fields, a few on metadata or the recipient, as a tenant would
write them. Most do not match the mix's events: a rule set mostly says "not this one"."""

from __future__ import annotations

from typing import Any

RULES: list[dict[str, Any]] = [
    {"name": "popular likes are bulk", "event_types": ["content.liked"], "when": "payload.like_count > 100",
     "actions": {"priority": "low"}},
    {"name": "no likes on drafts", "event_types": ["content.liked"],
     "when": 'payload.content_title.startsWith("Draft")', "actions": {"skip": "drafts are private"}},
    {"name": "free plan: no push for likes", "event_types": ["content.liked"],
     "when": 'has(metadata.plan) && metadata.plan == "free"', "actions": {"remove_channels": ["push"]}},
    {"name": "low tasks are bulk", "event_types": ["task.assigned"], "when": 'payload.priority == "low"',
     "actions": {"priority": "low"}},
    {"name": "urgent tasks by sms", "event_types": ["task.assigned"], "when": 'payload.priority == "urgent"',
     "actions": {"add_channels": ["sms"]}},
    {"name": "bot tasks are skipped", "event_types": ["task.assigned"],
     "when": 'payload.task_title.contains("[bot]")', "actions": {"skip": "assigned by a bot"}},
    {"name": "stale tasks are skipped", "event_types": ["task.assigned"],
     "when": 'payload.due_date < timestamp("2020-01-01T00:00:00Z")', "actions": {"skip": "due long ago"}},
    {"name": "@all mentions are bulk", "event_types": ["comment.mentioned"],
     "when": 'payload.comment_text.contains("@all")', "actions": {"priority": "low"}},
    {"name": "archived mentions are skipped", "event_types": ["comment.mentioned"],
     "when": 'payload.resource_title.startsWith("Archive")', "actions": {"skip": "archived"}},
    {"name": "no e-mail without an address", "event_types": ["comment.mentioned"], "when": "!recipient.has_email",
     "actions": {"remove_channels": ["email"]}},
    {"name": "big invoices also by sms", "event_types": ["invoice.payment.failed"], "when": "payload.amount > 1000",
     "actions": {"add_channels": ["sms"]}},
    {"name": "foreign invoices first", "event_types": ["invoice.payment.failed"], "when": 'payload.currency != "USD"',
     "actions": {"priority": "high"}},
    {"name": "expired cards later", "event_types": ["invoice.payment.failed"],
     "when": 'payload.failure_reason == "expired_card"', "actions": {"delay_seconds": 3600}},
    {"name": "no in-app without credentials", "event_types": ["user.registration.completed"],
     "when": "payload.send_credentials == false", "actions": {"remove_channels": ["in_app"]}},
    {"name": "logins from home are quiet", "event_types": ["user.login.succeeded"],
     "when": 'payload.location.endsWith(", DE")', "actions": {"priority": "low"}},
    {"name": "many failed logins by push", "event_types": ["user.login.failed"], "when": "payload.attempt_count > 5",
     "actions": {"add_channels": ["push"]}},
    {"name": "2fa in the app first", "event_types": ["auth.2fa.code.requested"], "when": 'payload.method == "in_app"',
     "actions": {"priority": "high"}},
    {"name": "2fa failures first", "event_types": ["auth.2fa.attempt.failed", "auth.2fa.method.changed"],
     "actions": {"priority": "high"}},
    {"name": "resets from known addresses", "event_types": ["user.password.reset.requested"],
     "when": 'payload.ip_address.startsWith("10.")', "actions": {"priority": "high"}},
    {"name": "campaigns are bulk", "when": 'has(metadata.campaign) && metadata.campaign != ""',
     "actions": {"priority": "low"}},
]
