"""Topics and their subscribers, scoped by the API key's tenant: another tenant's topic is a 404, and two tenants
may use the same key. The work is notifications.audiences.topics (shared with the admin and the benchmark); a bad
user id or channel answers 422 naming it ("user_ids[3]: ..."). Lists page with an opaque cursor (the last key or
user id of the page), over the unique indexes."""

import base64
import binascii
from collections.abc import Callable
from typing import Annotated, Any

from ninja import Field, Router, Status
from ninja.errors import HttpError

from notifications.api.auth import TenantRequest
from notifications.api.topic_schemas import (
    RemovedOut,
    SubscribeIn,
    SubscribeOut,
    SubscriberPageOut,
    TopicIn,
    TopicKey,
    TopicOut,
    TopicPageOut,
    TopicPatch,
    UnsubscribeIn,
)
from notifications.audiences import topics
from notifications.audiences.models import Topic
from notifications.storable import Storable, UserId

router = Router(tags=["topics"])

CURSOR_LENGTH = 700  # base64 of a key or a user id: 128 characters of up to 4 bytes each
Cursor = Annotated[str, Storable(CURSOR_LENGTH)]
Limit = Annotated[int, Field(ge=1, le=topics.MAX_PAGE)]


def _encode(value: str | None) -> str | None:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=") if value is not None else None


def _decode(cursor: str | None, check: Callable[[Any, str], str]) -> str | None:
    """The key or user id a cursor holds, checked as one (a forged cursor is refused, never queried)."""
    if not cursor:
        return None
    try:
        value = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
        return check(value, "cursor")
    except (ValueError, binascii.Error, UnicodeDecodeError) as err:
        raise HttpError(422, "cursor: invalid cursor") from err


def _checked(check: Callable[..., Any], *args: Any) -> Any:
    try:
        return check(*args)
    except topics.TopicInputError as err:
        raise HttpError(422, str(err)) from err


def _topic(request: TenantRequest, key: str) -> Topic:
    topic = topics.get_topic(request.auth.tenant_id, key)
    if topic is None:
        raise HttpError(404, f"no topic {key!r}")
    return topic


def _out(topic: Topic, subscribers: int | None = None) -> dict[str, Any]:
    return {"key": topic.key, "name": topic.name, "created_at": topic.created_at,
            "subscribers": topics.subscriber_count(topic) if subscribers is None else subscribers}


@router.post("", response={201: TopicOut}, summary="Create a topic")
def create_topic(request: TenantRequest, body: TopicIn):
    """409 when the tenant has a topic with this key."""
    try:
        topic = topics.create_topic(request.auth.tenant_id, body.key, body.name)
    except topics.TopicExists as err:
        raise HttpError(409, f"topic {body.key!r} already exists: add subscribers to it, or delete it first") from err
    return Status(201, _out(topic, subscribers=0))


@router.get("", response=TopicPageOut, summary="List topics (key order)")
def list_topics(request: TenantRequest, cursor: Cursor | None = None, limit: Limit = topics.DEFAULT_PAGE):
    """Without subscriber counts (one topic may have a million): GET /topics/{key} has it."""
    items, last = topics.topic_page(request.auth.tenant_id, _decode(cursor, topics.check_topic_key), limit)
    return {"items": items, "next_cursor": _encode(last)}


@router.get("/{key}", response=TopicOut, summary="A topic and its subscriber count")
def get_topic(request: TenantRequest, key: TopicKey):
    return _out(_topic(request, key))


@router.patch("/{key}", response=TopicOut, summary="Rename a topic")
def patch_topic(request: TenantRequest, key: TopicKey, body: TopicPatch):
    topic = _topic(request, key)
    topic.name = body.name
    topic.save(update_fields=["name", "updated_at"])
    return _out(topic)


@router.delete("/{key}", response={204: None}, summary="Delete a topic and its subscriptions")
def delete_topic(request: TenantRequest, key: TopicKey):
    topics.delete_topic(_topic(request, key))
    return Status(204, None)


@router.post("/{key}/subscribers", response=SubscribeOut, summary="Subscribe users (up to 10,000 per call)")
def subscribe(request: TenantRequest, key: TopicKey, body: SubscribeIn):
    """Subscribes each user id; one already subscribed gets the channels given (replacing its own). A user id
    with no contact in the tenant is subscribed all the same and listed in `unknown_users` (sorted)."""
    user_ids = sorted(_checked(topics.check_user_ids, body.user_ids))  # one lock order for concurrent calls
    channels = _checked(topics.check_channels, body.channels)
    result = topics.subscribe(_topic(request, key), user_ids, channels)
    return {"added": result.added, "updated": result.updated, "unknown_users": result.unknown_users}


@router.post("/{key}/subscribers/remove", response=RemovedOut, summary="Unsubscribe users (up to 10,000 per call)")
def unsubscribe(request: TenantRequest, key: TopicKey, body: UnsubscribeIn):
    user_ids = sorted(_checked(topics.check_user_ids, body.user_ids))
    return {"removed": topics.unsubscribe(_topic(request, key), user_ids)}


@router.delete("/{key}/subscribers/{user_id}", response={204: None}, summary="Unsubscribe one user")
def unsubscribe_one(request: TenantRequest, key: TopicKey, user_id: UserId):
    if not topics.unsubscribe(_topic(request, key), [user_id]):
        raise HttpError(404, f"user {user_id!r} is not subscribed to {key!r}")
    return Status(204, None)


@router.get("/{key}/subscribers", response=SubscriberPageOut, summary="List subscribers (user-id order)")
def list_subscribers(request: TenantRequest, key: TopicKey, cursor: Cursor | None = None,
                     limit: Limit = topics.DEFAULT_PAGE):
    after = _decode(cursor, topics.check_user_id)
    items, last = topics.subscribers_page(_topic(request, key), after, limit)
    return {"items": items, "next_cursor": _encode(last)}

