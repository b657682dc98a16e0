"""Topics and their subscribers: the service functions the API (api/routers/topics.py), the admin and the benchmark
share, and the checks of their inputs. No django-ninja here: a bad input raises TopicInputError naming the bad
part ("user_ids[3]: ..."), which the API answers as 422.

Writes are bulk: subscribers are upserted and removed in chunks of CHUNK_SIZE, one write statement per chunk, all
of a call in one transaction. Reads are keyset pages over the unique indexes: (tenant, key) for topics, (topic,
user_id) for subscribers, so a page costs the same at the millionth subscriber as at the first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import IntegrityError, transaction

from notifications.audiences.models import TOPIC_KEY, TOPIC_KEY_RULE, Subscription, Topic
from notifications.channels.spec import CHANNEL_SPECS
from notifications.storable import ID_LENGTH, NAME_LENGTH, UNSTORABLE_MESSAGE, unstorable
from notifications.tenants.models import Contact, Tenant

KEY_LENGTH = 128  # Topic.key
MAX_USER_IDS = 10_000  # user ids in one call of the API (subscribe, remove)
CHUNK_SIZE = 1_000  # rows per write statement
MAX_PAGE = 200  # items in one page of a list
DEFAULT_PAGE = 50


class TopicInputError(ValueError):
    """An input that cannot be used, naming its part: `user_ids[3]: must be 1-128 characters`."""


class TopicExists(Exception):
    """The tenant already has a topic with this key."""


@dataclass
class SubscribeResult:
    added: int = 0  # new subscriptions
    updated: int = 0  # subscriptions that existed: their channels are replaced by the ones given
    unknown_users: list[str] = field(default_factory=list)  # subscribed, but no contact in the tenant (yet)


# Checks


def check_topic_key(key: Any, where: str = "key") -> str:
    if not isinstance(key, str):
        raise TopicInputError(f"{where}: must be text")
    if len(key) > KEY_LENGTH or not TOPIC_KEY.fullmatch(key):  # length first: a huge value is refused unscanned
        raise TopicInputError(f"{where}: must be {TOPIC_KEY_RULE}")
    return key


def check_name(name: Any, where: str = "name") -> str:
    if not isinstance(name, str):
        raise TopicInputError(f"{where}: must be text")
    if len(name) > NAME_LENGTH:
        raise TopicInputError(f"{where}: must be at most {NAME_LENGTH} characters")
    if unstorable(name):
        raise TopicInputError(f"{where}: {UNSTORABLE_MESSAGE}")
    return name


def check_user_id(value: Any, where: str = "user_id") -> str:
    """A user id as stored: text of 1-128 characters (an integer is taken as its decimal text)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise TopicInputError(f"{where}: must be text or an integer")
    if not 1 <= len(value) <= ID_LENGTH:
        raise TopicInputError(f"{where}: must be 1-{ID_LENGTH} characters")
    if unstorable(value):
        raise TopicInputError(f"{where}: {UNSTORABLE_MESSAGE}")
    return value


def check_user_ids(values: Any, where: str = "user_ids", limit: int = MAX_USER_IDS) -> list[str]:
    """A call's user ids: a non-empty list of at most `limit`, each checked; duplicates dropped, order kept."""
    if not isinstance(values, list | tuple):
        raise TopicInputError(f"{where}: must be a list of user ids")
    if not values:
        raise TopicInputError(f"{where}: must not be empty")
    if len(values) > limit:
        raise TopicInputError(f"{where}: at most {limit:,} user ids in one call (got {len(values):,})")
    checked = (check_user_id(value, f"{where}[{index}]") for index, value in enumerate(values))
    return list(dict.fromkeys(checked))


def check_channels(values: Any, where: str = "channels") -> list[str]:
    """A subscription's channels: known channel names, each once, in the order CHANNEL_SPECS declares them
    (None or [] means every channel of the event)."""
    if values is None:
        return []
    if not isinstance(values, list | tuple):
        raise TopicInputError(f"{where}: must be a list of channel names")
    if len(values) > len(CHANNEL_SPECS):
        raise TopicInputError(f"{where}: at most {len(CHANNEL_SPECS)} channels")
    for index, value in enumerate(values):
        if not isinstance(value, str) or value not in CHANNEL_SPECS:
            shown = value[:40] if isinstance(value, str) else value
            raise TopicInputError(f"{where}[{index}]: unknown channel {shown!r}; known: {', '.join(CHANNEL_SPECS)}")
    return [channel for channel in CHANNEL_SPECS if channel in values]


# Topics


def _tenant_id(tenant: Tenant | str) -> str:
    return tenant.pk if isinstance(tenant, Tenant) else tenant


def get_topic(tenant: Tenant | str, key: str) -> Topic | None:
    return Topic.objects.filter(tenant_id=_tenant_id(tenant), key=key).first()


def create_topic(tenant: Tenant | str, key: str, name: str = "") -> Topic:
    """A new topic; TopicExists when the tenant has one with this key (also when a concurrent call made it)."""
    key, name = check_topic_key(key), check_name(name)
    try:
        with transaction.atomic():
            return Topic.objects.create(tenant_id=_tenant_id(tenant), key=key, name=name)
    except IntegrityError as err:
        raise TopicExists(f"topic {key!r} already exists") from err


def topic_page(tenant: Tenant | str, after_key: str | None, limit: int = DEFAULT_PAGE,
               ) -> tuple[list[Topic], str | None]:
    """The tenant's topics in key order after `after_key`, and the key to continue after (None: the last page)."""
    query = Topic.objects.filter(tenant_id=_tenant_id(tenant)).order_by("key")
    if after_key is not None:
        query = query.filter(key__gt=after_key)
    items = list(query[: limit + 1])
    return _page(items, limit, lambda topic: topic.key)


def subscriber_count(topic: Topic) -> int:
    return Subscription.objects.filter(topic=topic).count()


# Subscribers


def subscribers_page(topic: Topic, after_user_id: str | None, limit: int = DEFAULT_PAGE,
                     ) -> tuple[list[Subscription], str | None]:
    """The topic's subscriptions in user-id order after `after_user_id` (a keyset walk of the unique index
    (topic, user_id)), and the user id to continue after (None: the last page)."""
    query = Subscription.objects.filter(topic=topic).order_by("user_id")
    if after_user_id is not None:
        query = query.filter(user_id__gt=after_user_id)
    items = list(query.only("user_id", "channels", "created_at")[: limit + 1])
    return _page(items, limit, lambda subscription: subscription.user_id)


def _page(items: list[Any], limit: int, key: Any) -> tuple[list[Any], str | None]:
    more = len(items) > limit
    items = items[:limit]
    return items, (key(items[-1]) if more else None)


def _chunks(values: Iterable[str], size: int = CHUNK_SIZE) -> Iterator[list[str]]:
    iterator = iter(values)
    while chunk := list(dict.fromkeys(islice(iterator, size))):  # a statement must not touch a row twice
        yield chunk


def subscribe(topic: Topic, user_ids: Iterable[str], channels: Sequence[str] | None = None) -> SubscribeResult:
    """Subscribe the users (checked ids: check_user_ids) to the topic with these channels (None or []: every
    channel of the event). An existing subscription gets the channels given, replacing its own. Per chunk of
    1,000: which exist (for the counts), which have a contact (unknown users are reported, and subscribed all
    the same: their contact may come later), then one INSERT ... ON CONFLICT (topic, user_id) DO UPDATE. Sorted
    ids keep two concurrent calls from deadlocking (both lock rows in one order)."""
    chosen = check_channels(channels)
    result = SubscribeResult()
    with transaction.atomic():
        for chunk in _chunks(user_ids):
            existing = set(Subscription.objects.filter(topic=topic, user_id__in=chunk)
                           .values_list("user_id", flat=True))
            known = set(Contact.objects.filter(tenant_id=topic.tenant_id, user_id__in=chunk)
                        .values_list("user_id", flat=True))
            Subscription.objects.bulk_create(
                [Subscription(topic=topic, user_id=user_id, channels=chosen) for user_id in chunk],
                update_conflicts=True, unique_fields=["topic", "user_id"], update_fields=["channels"],
                batch_size=CHUNK_SIZE)
            result.updated += len(existing)
            result.added += len(chunk) - len(existing)
            result.unknown_users.extend(user_id for user_id in chunk if user_id not in known)
    return result


def unsubscribe(topic: Topic, user_ids: Iterable[str]) -> int:
    """Remove the users' subscriptions: one DELETE per chunk of 1,000. The number removed."""
    removed = 0
    with transaction.atomic():
        for chunk in _chunks(user_ids):
            removed += Subscription.objects.filter(topic=topic, user_id__in=chunk).delete()[0]
    return removed


def delete_topic(topic: Topic) -> None:
    """The topic and its subscriptions (Topic.delete: one statement for the subscriptions)."""
    with transaction.atomic():
        topic.delete()
