"""The topics endpoints: topics, bulk subscribe and unsubscribe, cursor pages, the checks naming the bad part, and
isolation between tenants (another tenant's topic is a 404 everywhere; both may use the same key)."""

from __future__ import annotations

import pytest

from notifications.audiences.models import Subscription, Topic
from notifications.tenants.models import Contact
from tests.helpers import error_detail

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(api_a):
    answer = api_a.post("/topics", {"key": "project-42", "name": "Project 42"})
    assert answer.status_code == 201, answer.content
    return answer.json()


def subscribed(tenant_id: str = "acme", key: str = "project-42") -> dict[str, list[str]]:
    return dict(Subscription.objects.filter(topic__tenant_id=tenant_id, topic__key=key)
                .values_list("user_id", "channels"))


def walk(client, path: str, limit: int) -> tuple[list[dict], int]:
    items, cursor, pages = [], None, 0
    while True:
        answer = client.get(f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status_code == 200, answer.content
        page = answer.json()
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


# --- topics ------------------------------------------------------------------------------------------------


def test_create_get_rename_and_delete_a_topic(api_a, topic):
    assert set(topic) == {"key", "name", "subscribers", "created_at"}
    assert (topic["key"], topic["name"], topic["subscribers"]) == ("project-42", "Project 42", 0)
    api_a.post("/topics/project-42/subscribers", {"user_ids": ["u-1", "u-2"]})

    assert api_a.get("/topics/project-42").json()["subscribers"] == 2
    renamed = api_a.patch("/topics/project-42", {"name": "Project forty-two"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Project forty-two"
    assert api_a.delete("/topics/project-42").status_code == 204
    assert api_a.get("/topics/project-42").status_code == 404
    assert api_a.delete("/topics/project-42").status_code == 404
    assert not Subscription.objects.exists()


def test_a_topic_without_a_name_and_an_existing_key(api_a, topic):
    assert api_a.post("/topics", {"key": "t"}).json()["name"] == ""
    again = api_a.post("/topics", {"key": "project-42", "name": "again"})
    assert again.status_code == 409
    assert "topic 'project-42' already exists" in again.json()["detail"]
    assert Topic.objects.get(key="project-42").name == "Project 42"


@pytest.mark.parametrize("body,named", [
    ({"key": "-starts-with-a-dash"}, "key"), ({"key": "has space"}, "key"), ({"key": ""}, "key"),
    ({"key": "x" * 129}, "key"), ({"key": "a\x00b"}, "key"), ({}, "key"),
    ({"key": "ok", "name": "x" * 201}, "name"), ({"key": "ok", "name": "a\x00"}, "name"),
])
def test_bad_topics_are_refused_naming_the_field(api_a, body, named):
    answer = api_a.post("/topics", body)

    assert answer.status_code == 422
    assert named in error_detail(answer)
    assert not Topic.objects.exists()


def test_a_bad_key_in_the_path_is_refused_naming_it(api_a, topic):
    for path in ("/topics/-x", "/topics/a%20b", "/topics/" + "x" * 129, "/topics/a%00b/subscribers"):
        answer = api_a.get(path)
        assert answer.status_code == 422 and "key" in error_detail(answer), path


def test_topics_list_in_key_order_with_a_cursor(api_a):
    keys = [f"team-{n:02}" for n in range(11)]
    for key in reversed(keys):
        api_a.post("/topics", {"key": key})

    items, pages = walk(api_a, "/topics", 4)

    assert [t["key"] for t in items] == keys and pages == 3
    assert set(items[0]) == {"key", "name", "created_at"}  # counts only on GET /topics/{key}
    assert api_a.get("/topics").json()["next_cursor"] is None  # the default limit: 50


@pytest.mark.parametrize("query,named", [("limit=0", "limit"), ("limit=201", "limit"), ("cursor=!!!!", "cursor"),
                                         ("cursor=" + "x" * 701, "cursor"), ("cursor=YQA", "cursor")])
def test_bad_list_parameters_are_refused(api_a, topic, query, named):
    for path in ("/topics", "/topics/project-42/subscribers"):
        answer = api_a.get(f"{path}?{query}")
        assert answer.status_code == 422 and named in error_detail(answer), (path, answer.content)


# --- subscribers -------------------------------------------------------------------------------------------


def test_subscribe_reports_added_updated_and_unknown_users(api_a, topic):
    Contact.objects.create(tenant_id="acme", user_id="u-1")

    first = api_a.post("/topics/project-42/subscribers", {"user_ids": ["u-1", "u-2", 42], "channels": ["in_app"]})
    again = api_a.post("/topics/project-42/subscribers", {"user_ids": ["u-2", "u-3", "u-3"]})

    assert first.status_code == 200
    assert first.json() == {"added": 3, "updated": 0, "unknown_users": ["42", "u-2"]}
    assert again.json() == {"added": 1, "updated": 1, "unknown_users": ["u-2", "u-3"]}
    assert subscribed() == {"u-1": ["in_app"], "u-2": [], "42": ["in_app"], "u-3": []}


@pytest.mark.parametrize("user_ids,named", [
    (["u-0", "u-1", "u-2", ""], "user_ids[3]: must be 1-128 characters"),
    (["u-0", "x" * 129], "user_ids[1]: must be 1-128 characters"),
    (["a\x00b"], "user_ids[0]: must not contain NUL"),
    (["u-0", True], "user_ids[1]: must be text or an integer"), (["u-0", 1.5], "user_ids[1]: must be text"),
    ([None], "user_ids[0]: must be text"), ([{"id": "u-1"}], "user_ids[0]: must be text"),
    ([], "user_ids: must not be empty"), ("u-1", "user_ids"),
])
def test_bad_user_ids_are_refused_naming_the_item(api_a, topic, user_ids, named):
    answer = api_a.post("/topics/project-42/subscribers", {"user_ids": user_ids})

    assert answer.status_code == 422
    assert named in error_detail(answer)
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("channels,named", [
    (["email", "fax"], "channels[1]: unknown channel 'fax'; known: email, sms, push, in_app"),
    (["a\x00"], "channels"), (["email"] * 9, "channels"), ("in_app", "channels"),
])
def test_channels_are_checked(api_a, topic, channels, named):
    answer = api_a.post("/topics/project-42/subscribers", {"user_ids": ["u-1"], "channels": channels})

    assert answer.status_code == 422
    assert named in error_detail(answer)
    assert not Subscription.objects.exists()


def test_ten_thousand_ids_in_one_call_and_not_one_more(api_a, topic):
    ids = [f"user-{n:05}" for n in range(10_000)]

    answer = api_a.post("/topics/project-42/subscribers", {"user_ids": ids})
    refused = api_a.post("/topics/project-42/subscribers", {"user_ids": [*ids, "user-10000"]})
    removed = api_a.post("/topics/project-42/subscribers/remove", {"user_ids": [*ids, "user-10000"]})

    assert answer.status_code == 200
    assert (answer.json()["added"], len(answer.json()["unknown_users"])) == (10_000, 10_000)
    assert refused.status_code == 422 and "user_ids" in error_detail(refused)
    assert removed.status_code == 422 and "user_ids" in error_detail(removed)
    assert api_a.get("/topics/project-42").json()["subscribers"] == 10_000


def test_remove_in_bulk_and_one_by_one(api_a, topic):
    api_a.post("/topics/project-42/subscribers", {"user_ids": ["u-1", "u-2", "u-3", "u-4"]})

    removed = api_a.post("/topics/project-42/subscribers/remove", {"user_ids": ["u-1", "u-2", "nobody"]})
    assert removed.status_code == 200 and removed.json() == {"removed": 2}
    assert api_a.delete("/topics/project-42/subscribers/u-3").status_code == 204
    missing = api_a.delete("/topics/project-42/subscribers/u-3")
    assert missing.status_code == 404 and "not subscribed" in missing.json()["detail"]
    assert api_a.post("/topics/project-42/subscribers/remove", {"user_ids": ["a\x00"]}).status_code == 422
    assert subscribed() == {"u-4": []}


def test_subscriber_pages_walk_250_without_duplicates_or_gaps(api_a, topic):
    ids = [f"user-{n}" for n in range(250)]
    api_a.post("/topics/project-42/subscribers", {"user_ids": ids, "channels": ["email", "in_app"]})
    api_a.post("/topics", {"key": "other"})
    api_a.post("/topics/other/subscribers", {"user_ids": ["user-1", "user-99999"]})

    for limit, expected_pages in ((7, 36), (50, 5), (200, 2)):
        items, pages = walk(api_a, "/topics/project-42/subscribers", limit)
        assert [item["user_id"] for item in items] == sorted(ids), limit
        assert pages == expected_pages
    assert set(items[0]) == {"user_id", "channels", "created_at"}
    assert items[0]["channels"] == ["email", "in_app"]
    assert len(api_a.get("/topics/project-42/subscribers").json()["items"]) == 50


def test_subscribers_of_a_missing_topic_are_a_404(api_a):
    assert api_a.get("/topics/nope/subscribers").status_code == 404
    assert api_a.post("/topics/nope/subscribers", {"user_ids": ["u-1"]}).status_code == 404
    assert api_a.post("/topics/nope/subscribers/remove", {"user_ids": ["u-1"]}).status_code == 404
    assert api_a.delete("/topics/nope/subscribers/u-1").status_code == 404
    assert api_a.patch("/topics/nope", {"name": "x"}).status_code == 404


def test_topics_need_an_api_key(topic):
    from tests.fixtures import ApiClient

    anonymous = ApiClient(None)
    assert anonymous.get("/topics").status_code == 401
    assert anonymous.post("/topics", {"key": "x"}).status_code == 401
    assert anonymous.get("/topics/project-42").status_code == 401


# --- isolation ---------------------------------------------------------------------------------------------


def test_tenant_b_can_neither_read_nor_change_tenant_a_topics(api_a, api_b, topic):
    api_a.post("/topics/project-42/subscribers", {"user_ids": ["u-1", "u-2"], "channels": ["email"]})

    assert api_b.get("/topics").json() == {"items": [], "next_cursor": None}
    assert api_b.get("/topics/project-42").status_code == 404
    assert api_b.get("/topics/project-42/subscribers").status_code == 404
    assert api_b.patch("/topics/project-42", {"name": "taken over"}).status_code == 404
    assert api_b.post("/topics/project-42/subscribers", {"user_ids": ["intruder"]}).status_code == 404
    assert api_b.post("/topics/project-42/subscribers/remove", {"user_ids": ["u-1"]}).status_code == 404
    assert api_b.delete("/topics/project-42/subscribers/u-2").status_code == 404
    assert api_b.delete("/topics/project-42").status_code == 404

    assert Topic.objects.get(tenant_id="acme", key="project-42").name == "Project 42"
    assert subscribed("acme") == {"u-1": ["email"], "u-2": ["email"]}


def test_both_tenants_use_the_same_key_independently(api_a, api_b, topic):
    created = api_b.post("/topics", {"key": "project-42", "name": "Globex's"})
    assert created.status_code == 201
    api_a.post("/topics/project-42/subscribers", {"user_ids": ["u-1", "u-2"]})
    api_b.post("/topics/project-42/subscribers", {"user_ids": ["u-2", "g-1", "g-2"], "channels": ["sms"]})
    api_b.post("/topics/project-42/subscribers/remove", {"user_ids": ["u-2"]})

    assert api_a.get("/topics/project-42").json()["subscribers"] == 2
    assert api_b.get("/topics/project-42").json() == {**created.json(), "subscribers": 2}
    assert [i["user_id"] for i in api_b.get("/topics/project-42/subscribers").json()["items"]] == ["g-1", "g-2"]
    assert [t["name"] for t in api_a.get("/topics").json()["items"]] == ["Project 42"]

    assert api_b.delete("/topics/project-42").status_code == 204
    assert subscribed("acme") == {"u-1": [], "u-2": []}
    assert subscribed("globex") == {}
