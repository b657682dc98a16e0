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


def render_in(tenant, locale, event_type, channel, count):
    handler = event_registry.handler_for(event_type)
    payload = EXAMPLE_PAYLOADS[event_type]
    digest = Digest(1, count, [(f"e-{n}", WHEN, payload) for n in range(min(count, 50))])
    context = build_context(handler, event_type=event_type, payload=payload, tenant=tenant,
                            contact={"locale": locale})
    return render_digest(handler, event_type, Channel(channel), context, tenant.id, digest)


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", ["0 new likes", "1 new like", "2 new likes"]),
    ("de", ["0 neue „Gefällt mir“", "1 neues „Gefällt mir“", "2 neue „Gefällt mir“"]),
    ("fr", ["0 nouveau « J'aime »", "1 nouveau « J'aime »", "2 nouveaux « J'aime »"]),  # 0 is singular
    ("es", ["0 nuevos «Me gusta»", "1 nuevo «Me gusta»", "2 nuevos «Me gusta»"]),
])
def test_new_likes_counts_0_1_2_in_each_language(tenant, locale, expected):
    titles = [render_in(tenant, locale, "content.liked", "push", count)["title"] for count in (0, 1, 2)]
    assert titles == expected
    assert render_in(tenant, locale, "content.liked", "push", 2).source == f"digest:default[{locale}]"


@pytest.mark.parametrize(("locale", "expected"), [
    ("en", ["You have 0 new notifications.", "You have 1 new notification.", "You have 2 new notifications."]),
    ("de", ["Sie haben 0 neue Benachrichtigungen.", "Sie haben 1 neue Benachrichtigung.",
            "Sie haben 2 neue Benachrichtigungen."]),
    ("fr", ["Vous avez 0 nouvelle notification.", "Vous avez 1 nouvelle notification.",
            "Vous avez 2 nouvelles notifications."]),
    ("es", ["Tiene 0 nuevas notificaciones.", "Tiene 1 nueva notificación.", "Tiene 2 nuevas notificaciones."]),
])
def test_generic_digest_counts_0_1_2_in_each_language(tenant, locale, expected):
    assert [render_in(tenant, locale, "task.assigned", "sms", count)["body"] for count in (0, 1, 2)] == expected


def test_mentions_digest_in_german_names_the_first_mentioner_and_the_others(tenant):
    content = render_in(tenant, "de-AT", "comment.mentioned", "email", 3)
    assert content["subject"] == "3 neue Erwähnungen"
    assert content["body"].startswith("Guten Tag,\n\nJane Smith und 2 weitere Personen haben Sie erwähnt:\n")
    assert "- Jane Smith in Launch plan" in content["body"]


def test_a_tenants_localized_digest_template_is_picked_by_the_recipients_chain(tenant):
    from notifications.models import NotificationTemplate

    for locale, title in (("", "{{ count }} likes"), ("de", "{{ count }} Likes (de)")):
        NotificationTemplate.objects.create(tenant_id=tenant.id, name="content_liked_push_digest", channel="push",
                                            locale=locale, content={"title": title, "body": "b"})
    digest_templates = {row.locale: row for row in NotificationTemplate.objects.filter(tenant_id=tenant.id)}
    handler = event_registry.handler_for("content.liked")
    for locale, expected in (("de-AT", "2 Likes (de)"), ("fr", "2 likes")):
        digest = Digest(1, 2, [], templates=digest_templates)
        context = build_context(handler, event_type="content.liked", payload=EXAMPLE_PAYLOADS["content.liked"],
                                tenant=tenant, contact={"locale": locale})
        content = render_digest(handler, "content.liked", Channel.PUSH, context, tenant.id, digest)
        assert content["title"] == expected
