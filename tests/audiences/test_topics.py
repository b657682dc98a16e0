"""The topic service functions (notifications.audiences.topics): input checks naming the bad part, bulk subscribe
and unsubscribe in chunks, keyset pages, and a topic's deletion taking its subscriptions along."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from notifications.audiences import topics
from notifications.audiences.models import Subscription, Topic
from notifications.tenants.models import Contact, Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(tenant: Tenant) -> Topic:
    return topics.create_topic(tenant, "project-42", "Project 42")


# --- checks ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "project-42", "Team.eng:backend_1", "9" * 128])
def test_good_topic_keys(key):
    assert topics.check_topic_key(key) == key


@pytest.mark.parametrize("key", ["", "-x", ".x", "a b", "a/b", "a\n", "a\x00", "é", "x" * 129, 42, None])
def test_bad_topic_keys_are_refused_naming_the_key(key):
    with pytest.raises(topics.TopicInputError, match=r"^key: "):
        topics.check_topic_key(key)


def test_user_ids_are_text_integers_become_text_and_duplicates_go():
    assert topics.check_user_ids(["u-1", 42, "u-1", "42", "ü" * 128]) == ["u-1", "42", "ü" * 128]


@pytest.mark.parametrize("bad,message", [
    ("", "must be 1-128 characters"), ("x" * 129, "must be 1-128 characters"),
    ("a\x00b", "NUL"), ("a\ud800", "surrogate"), (True, "text or an integer"), (1.5, "text or an integer"),
    (None, "text or an integer"), (["u-1"], "text or an integer"),
])
def test_a_bad_user_id_is_named_by_its_index(bad, message):
    with pytest.raises(topics.TopicInputError, match=rf"^user_ids\[3\]: .*{message}"):
        topics.check_user_ids(["u-0", "u-1", "u-2", bad])


def test_user_id_lists_are_bounded():
    assert len(topics.check_user_ids([f"u-{n}" for n in range(10_000)])) == 10_000
    with pytest.raises(topics.TopicInputError, match=r"^user_ids: at most 10,000 user ids in one call \(got 10,001\)"):
        topics.check_user_ids([f"u-{n}" for n in range(10_001)])
    for empty_or_not_a_list in ([], "u-1", {"u-1": 1}, None):
        with pytest.raises(topics.TopicInputError, match=r"^user_ids: "):
            topics.check_user_ids(empty_or_not_a_list)


def test_channels_are_known_names_each_once_in_declared_order():
    assert topics.check_channels(None) == [] and topics.check_channels([]) == []
    assert topics.check_channels(["in_app", "email", "in_app"]) == ["email", "in_app"]
    with pytest.raises(topics.TopicInputError, match=r"^channels\[1\]: unknown channel 'fax'; known: email, sms"):
        topics.check_channels(["email", "fax"])
    with pytest.raises(topics.TopicInputError, match=r"^channels\[0\]: unknown channel 'In-App'"):
        topics.check_channels(["In-App"])
    with pytest.raises(topics.TopicInputError, match=r"^channels: must be a list"):
        topics.check_channels("email")


def test_names_are_bounded_and_storable():
    assert topics.check_name("Project 42") == "Project 42"
    for bad in ("x" * 201, "a\x00"):
        with pytest.raises(topics.TopicInputError, match=r"^name: "):
            topics.check_name(bad)


# --- topics ------------------------------------------------------------------------------------------------


def test_a_key_is_unique_per_tenant_only(topic):
    Tenant.objects.create(id="globex", name="Globex")
    with pytest.raises(topics.TopicExists):
        topics.create_topic("acme", "project-42")
    other = topics.create_topic("globex", "project-42")

    assert other.pk != topic.pk
    assert topics.get_topic("acme", "project-42") == topic
    assert topics.get_topic("globex", "project-42") == other
    assert topics.get_topic("globex", "project-43") is None


def test_topic_pages_walk_the_tenants_topics_in_key_order(tenant):
    Tenant.objects.create(id="globex", name="Globex")
    topics.create_topic("globex", "a-globex")
    keys = [f"t-{n:02}" for n in range(7)]
    for key in reversed(keys):
        topics.create_topic(tenant, key)

    seen, after = [], None
    while True:
        page, after = topics.topic_page("acme", after, limit=3)
        seen += [t.key for t in page]
        if after is None:
            break
    assert seen == keys


def test_deleting_a_topic_removes_its_subscriptions_only(topic, tenant):
    other = topics.create_topic(tenant, "other")
    topics.subscribe(topic, ["u-1", "u-2"])
    topics.subscribe(other, ["u-1"])

    topics.delete_topic(topic)

    assert not Topic.objects.filter(pk=topic.pk).exists()
    assert list(Subscription.objects.values_list("topic_id", "user_id")) == [(other.pk, "u-1")]


# --- subscribers -------------------------------------------------------------------------------------------


def test_subscribe_counts_added_updated_and_unknown_users(topic):
    Contact.objects.create(tenant_id="acme", user_id="u-1")

    first = topics.subscribe(topic, ["u-1", "u-2"], ["in_app"])
    second = topics.subscribe(topic, ["u-2", "u-3"])

    assert (first.added, first.updated, first.unknown_users) == (2, 0, ["u-2"])
    assert (second.added, second.updated, second.unknown_users) == (1, 1, ["u-2", "u-3"])
    assert dict(Subscription.objects.filter(topic=topic).values_list("user_id", "channels")) == {
        "u-1": ["in_app"], "u-2": [], "u-3": []}  # subscribing again replaces the channels


def test_a_contact_of_another_tenant_does_not_make_a_user_known(topic):
    Tenant.objects.create(id="globex", name="Globex")
    Contact.objects.create(tenant_id="globex", user_id="u-7")

    assert topics.subscribe(topic, ["u-7"]).unknown_users == ["u-7"]


def test_subscribe_refuses_unknown_channels_before_writing(topic):
    with pytest.raises(topics.TopicInputError, match=r"^channels\[0\]"):
        topics.subscribe(topic, ["u-1"], ["pigeon"])
    assert not Subscription.objects.exists()


def test_subscribe_and_unsubscribe_write_in_chunks_of_a_thousand(topic):
    ids = [f"u-{n:05}" for n in range(2_500)]

    with CaptureQueriesContext(connection) as queries:
        result = topics.subscribe(topic, iter(ids))  # any iterable: read chunk by chunk
    inserts = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("INSERT")]
    assert (result.added, result.updated, len(result.unknown_users)) == (2_500, 0, 2_500)
    if connection.vendor == "postgresql":
        assert len(inserts) == 3  # one statement per chunk (SQLite: Django splits at 999 parameters)
    assert topics.subscriber_count(topic) == 2_500

    with CaptureQueriesContext(connection) as queries:
        removed = topics.unsubscribe(topic, [*ids[:1_500], "nobody"])
    deletes = [q for q in queries.captured_queries if q["sql"].lstrip().upper().startswith("DELETE")]
    assert removed == 1_500 and len(deletes) == 2
    assert topics.subscriber_count(topic) == 1_000


def test_the_same_user_twice_in_one_chunk_is_one_subscription(topic):
    result = topics.subscribe(topic, ["u-1", "u-1", "u-2"])

    assert (result.added, result.updated) == (2, 0)
    assert topics.subscriber_count(topic) == 2


def test_subscriber_pages_walk_in_user_id_order_without_gaps_or_duplicates(topic, tenant):
    ids = sorted(f"user-{n}" for n in range(57))
    topics.subscribe(topic, ids)
    topics.subscribe(topics.create_topic(tenant, "other"), ["user-0", "zzz"])

    seen, after, pages = [], None, 0
    while True:
        page, after = topics.subscribers_page(topic, after, limit=10)
        seen += [s.user_id for s in page]
        pages += 1
        if after is None:
            break
    assert seen == ids and pages == 6
    assert topics.subscribers_page(topic, ids[-1], 10) == ([], None)
