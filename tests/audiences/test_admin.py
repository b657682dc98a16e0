"""The audiences admin (notifications/audiences/admin.py): topics, subscriptions and fan-outs list and open; a topic's
subscriber count is on its page only; fan-outs are read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from notifications.audiences import topics
from notifications.audiences.models import FanOut, Subscription, Topic
from notifications.events.models import Event
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def audience(tenant):
    topic = topics.create_topic(tenant, "project-42", "Project 42")
    topics.subscribe(topic, [f"u-{n}" for n in range(1_234)], ["in_app"])
    event_registry.process_event(make_event("task.assigned"))
    event = Event.objects.get()
    return topic, FanOut.objects.create(tenant=tenant, event=event, event_type=event.event_type, audience="topic",
                                        topic_key=topic.key, total=1_234, written=1_000, records=1_000)


@pytest.mark.parametrize("model", ["topic", "subscription", "fanout"])
def test_changelists_render(admin_client, audience, model):
    page = admin_client.get(reverse(f"admin:notifications_{model}_changelist"))

    assert page.status_code == 200
    assert "project-42" in page.content.decode()


def test_subscription_search_by_user_id(admin_client, audience):
    page = admin_client.get(reverse("admin:notifications_subscription_changelist") + "?q=u-1233")

    assert page.status_code == 200 and "u-1233" in page.content.decode()


def test_a_topic_page_shows_its_subscriber_count(admin_client, audience):
    topic, _ = audience

    page = admin_client.get(reverse("admin:notifications_topic_change", args=[topic.pk]))

    assert page.status_code == 200 and "1,234" in page.content.decode()
    changelist = admin_client.get(reverse("admin:notifications_topic_changelist")).content.decode()
    assert "1,234" not in changelist  # not counted per row


def test_deleting_a_topic_in_the_admin_removes_its_subscriptions(admin_client, audience):
    topic, _ = audience

    answer = admin_client.post(reverse("admin:notifications_topic_delete", args=[topic.pk]), {"post": "yes"})

    assert answer.status_code == 302
    assert not Topic.objects.exists() and not Subscription.objects.exists()


def test_fanouts_are_read_only(admin_client, audience):
    _, fanout = audience
    change = reverse("admin:notifications_fanout_change", args=[fanout.pk])

    page = admin_client.get(change)
    assert page.status_code == 200 and "project-42" in page.content.decode()
    assert "81.0%: 1,000 of 1,234 recipients written, 1,000 records; sent " in page.content.decode()  # progress
    assert admin_client.get(reverse("admin:notifications_fanout_add")).status_code == 403
    assert admin_client.post(change, {"state": "done"}).status_code == 403
    assert admin_client.get(reverse("admin:notifications_fanout_delete", args=[fanout.pk])).status_code == 403
    assert FanOut.objects.get().state == "pending"


def test_the_admin_checks_keys_user_ids_and_channels_as_the_api_does(admin_client, audience):
    topic, _ = audience
    added = admin_client.post(reverse("admin:notifications_topic_add"), {"tenant": "acme", "key": "-bad key"})
    assert added.status_code == 200 and "starting with a letter or digit" in added.content.decode()
    assert admin_client.post(reverse("admin:notifications_topic_add"),
                             {"tenant": "acme", "key": "team.eng", "name": "Eng"}).status_code == 302

    def subscribe(user_id: str, channels: str) -> str:
        answer = admin_client.post(reverse("admin:notifications_subscription_add"),
                                   {"topic": topic.pk, "user_id": user_id, "channels": channels})
        return "" if answer.status_code == 302 else answer.content.decode()

    assert "channels[0]: unknown channel &#x27;fax&#x27;" in subscribe("u-new", '["fax"]')
    assert "at most 128 characters" in subscribe("x" * 129, "[]")
    assert subscribe("a\x00b", "[]")  # refused (Django: null characters are not allowed)
    assert subscribe("u-new", '["in_app", "email"]') == ""
    assert Subscription.objects.get(user_id="u-new").channels == ["email", "in_app"]


def test_a_topics_tenant_and_key_are_fixed_once_made(admin_client, audience):
    topic, _ = audience

    admin_client.post(reverse("admin:notifications_topic_change", args=[topic.pk]),
                      {"tenant": "acme", "key": "renamed", "name": "New name"})

    topic.refresh_from_db()
    assert (topic.key, topic.name) == ("project-42", "New name")
