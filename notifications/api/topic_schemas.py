"""The topics API's request and response shapes (api/routers/topics.py), beside notifications/api/schemas.py. The
key is checked here; user ids and channels by notifications.audiences.topics, whose errors name the item
("user_ids[3]: ..."): here they are only bounded."""

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import AfterValidator, WithJsonSchema

from notifications.api.schemas import MAX_CHANNELS, Name
from notifications.audiences.models import TOPIC_KEY, TOPIC_KEY_RULE
from notifications.audiences.topics import KEY_LENGTH, MAX_USER_IDS
from notifications.storable import ChannelName, Storable


def _topic_key(value: str) -> str:
    if not TOPIC_KEY.fullmatch(value):
        raise ValueError(f"must be {TOPIC_KEY_RULE}")
    return value


TopicKey = Annotated[str, Storable(KEY_LENGTH, min_length=1), AfterValidator(_topic_key),
                     Field(description=f"The topic's key: {TOPIC_KEY_RULE}", examples=["project-42"])]
# Any JSON value here: notifications.audiences.topics.check_user_ids judges each, naming it ("user_ids[3]: ...").
TopicUserId = Annotated[Any, WithJsonSchema({"anyOf": [{"type": "string", "minLength": 1, "maxLength": 128},
                                                       {"type": "integer"}]})]
TopicUserIds = Annotated[list[TopicUserId], Field(
    max_length=MAX_USER_IDS, description=f"User ids (text of 1-128 characters, or integers): at most {MAX_USER_IDS:,}")]


class TopicIn(Schema):
    key: TopicKey
    name: Name = ""


class TopicPatch(Schema):
    name: Name


class TopicItemOut(Schema):
    key: str
    name: str
    created_at: datetime


class TopicOut(TopicItemOut):
    subscribers: int


class TopicPageOut(Schema):
    items: list[TopicItemOut]
    next_cursor: str | None


class SubscribeIn(Schema):
    user_ids: TopicUserIds
    channels: Annotated[list[ChannelName], Field(max_length=MAX_CHANNELS, description=(
        'Only these channels for this topic\'s events (e.g. ["in_app"]); empty or absent: every channel of the '
        "event. Replaces an existing subscription's channels."))] | None = None


class SubscribeOut(Schema):
    added: int
    updated: int
    unknown_users: list[str] = Field(description="Subscribed, but the tenant has no contact with this user id")


class UnsubscribeIn(Schema):
    user_ids: TopicUserIds


class RemovedOut(Schema):
    removed: int


class SubscriberOut(Schema):
    user_id: str
    channels: list[str]
    created_at: datetime


class SubscriberPageOut(Schema):
    items: list[SubscriberOut]
    next_cursor: str | None
