"""notifications/digests/render.py: the default digest templates (content.liked, comment.mentioned), the generic
one of a channel for other event types, and what a digest template sees (events, count, others)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notifications.digests.closing import Digest
from notifications.digests.render import digest_context, render_digest
from notifications.enums import Channel
from notifications.events.registry import event_registry
from notifications.rendering.context import build_context
from notifications.testing import EXAMPLE_PAYLOADS

pytestmark = pytest.mark.django_db
WHEN = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def render(tenant, event_type, channel, names, field):
    handler = event_registry.handler_for(event_type)
    payloads = [{**EXAMPLE_PAYLOADS[event_type], field: name} for name in names] if field else [
        EXAMPLE_PAYLOADS[event_type]] * len(names)
    digest = Digest(1, len(names), [(f"e-{n}", WHEN, payload) for n, payload in enumerate(payloads[:50])])
    context = build_context(handler, event_type=event_type, payload=payloads[0], tenant=tenant, contact={})
    return render_digest(handler, event_type, Channel(channel), context, tenant.id, digest)


def test_content_liked_in_app_says_jane_and_4_others(tenant):
    content = render(tenant, "content.liked", "in_app", ["Jane", "Bob", "Carol", "Dan", "Eve"], "liked_by")
    assert content["title"] == "Jane and 4 others liked your My first post"
    assert content.source == "digest:default[en]"


def test_comment_mentioned_email_lists_the_mentions_with_an_html_part(tenant):
    content = render(tenant, "comment.mentioned", "email", ["Jane", "Bob"], "mentioned_by")
    assert content["subject"] == "2 new mentions"
    assert "Jane and 1 other mentioned you" in content["body"] and "- Bob in Launch plan" in content["body"]
    assert "<" in content["html"]


def test_other_event_types_get_the_channels_generic_digest(tenant):
    content = render(tenant, "task.assigned", "push", ["a"] * 60, None)
    assert (content["title"], content["body"]) == ("60 new notifications", "Open the app to see them.")


def test_a_digest_template_sees_at_most_50_events_and_the_total_count(tenant):
    handler = event_registry.handler_for("content.liked")
    digest = Digest(1, 120, [(f"e-{n}", WHEN, EXAMPLE_PAYLOADS["content.liked"]) for n in range(50)])
    scope = digest_context(handler, {"app_url": "x"}, digest)
    assert (len(scope["events"]), scope["count"], scope["others"]) == (50, 120, 119)
    assert scope["events"][0]["liked_by"] == "Jane Smith" and scope["events"][0]["occurred_at"] == WHEN
