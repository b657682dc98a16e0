"""Display-only payload fields are optional (docs/events-and-templates.md, "Required and display-only fields"):
an event without them is processed and the default templates say "Someone" instead; identity fields stay
required; fields the schema does not know are kept and reach the templates."""

from __future__ import annotations

import pytest
from django.core import mail

from notifications.channels.models import InAppMessage
from notifications.enums import Outcome, RejectionReason
from notifications.events.registry import event_registry
from notifications.models import Event, NotificationTemplate
from notifications.testing import make_event
from tests.helpers import sent_push

pytestmark = pytest.mark.django_db


def test_a_mention_without_mentioned_by_is_processed_and_says_someone_mentioned_you(tenant, deliver):
    result = event_registry.process_event(make_event("comment.mentioned", mentioned_by=None))
    deliver()

    assert result.outcome == Outcome.PROCESSED, str(result)
    [email] = mail.outbox
    assert email.subject == "Someone mentioned you in Launch plan"
    assert "Someone mentioned you in a comment on Launch plan" in email.body
    assert InAppMessage.objects.get().title == "Someone mentioned you"
    assert sent_push()[0]["title"] == "Someone mentioned you"
    assert "None" not in email.subject + email.body


def test_a_blank_mentioned_by_reads_as_missing(tenant):
    event_registry.process_event(make_event("comment.mentioned", mentioned_by="   "))

    assert InAppMessage.objects.get().title == "Someone mentioned you"


def test_a_like_without_liked_by_says_someone(tenant):
    result = event_registry.process_event(make_event("content.liked", liked_by=None, like_count=4))

    assert result.outcome == Outcome.PROCESSED, str(result)
    assert InAppMessage.objects.get().title == "Someone and 3 others liked your My first post"


def test_a_task_without_its_title_is_processed_with_a_generic_text(tenant, deliver):
    result = event_registry.process_event(make_event("task.assigned", task_title=None, assigned_by=None))
    deliver()

    assert result.outcome == Outcome.PROCESSED, str(result)
    assert mail.outbox[0].subject == "You have a new task"
    assert "Someone assigned you a task." in mail.outbox[0].body
    assert InAppMessage.objects.get().title == "You have a new task"
    assert sent_push()[0]["body"].startswith("Tap to see your new task")


def test_the_named_sender_is_still_shown_when_given(tenant):
    event_registry.process_event(make_event("comment.mentioned"))

    assert InAppMessage.objects.get().title == "Jane Smith mentioned you"


@pytest.mark.parametrize(("event_type", "field"), [
    ("comment.mentioned", "comment_id"), ("content.liked", "content_id"), ("task.assigned", "task_id"),
    ("invoice.payment.failed", "amount"), ("invoice.payment.failed", "invoice_id"), ("comment.mentioned", "user_id"),
])
def test_identity_and_routing_fields_stay_required(tenant, event_type, field):
    result = event_registry.process_event(make_event(event_type, **{field: None}))

    assert result.outcome == Outcome.REJECTED and result.reason == RejectionReason.INVALID_PAYLOAD_FIELD
    assert field in result.detail


def test_unknown_payload_fields_are_kept_and_reach_the_templates(tenant):
    # Stored directly: the save-time check refuses a placeholder the payload schema does not name (see the docs).
    NotificationTemplate.objects.bulk_create([NotificationTemplate(
        tenant_id=tenant.id, name="comment_mentioned_in_app", channel="in_app",
        content={"title": "Mention in {{ ticket_ref }}", "body": "{{ mentioned_by or 'Someone' }}",
                 "action_url": ""}, placeholders=[],
    )])

    result = event_registry.process_event(make_event("comment.mentioned", ticket_ref="SUP-12", mentioned_by=None))

    assert result.outcome == Outcome.PROCESSED, str(result)
    assert Event.objects.get().payload["ticket_ref"] == "SUP-12"
    message = InAppMessage.objects.get()
    assert (message.title, message.body) == ("Mention in SUP-12", "Someone")
