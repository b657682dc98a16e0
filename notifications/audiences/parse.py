"""Reading an event's audience from its envelope: `recipients` (or the payload's `user_ids`), `to_topic`, or
`to_all`, instead of one `user_id`. Every problem is a text naming the field, never an exception; an event
without any of them costs three dictionary look-ups."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: A topic's key, as producers address it (`"to_topic": "project-42"`).
TOPIC_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,127}")
TOPIC_KEY_RULE = "1-128 characters of letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
#: The most user ids one event may list; a larger audience is a topic.
MAX_RECIPIENTS = 100_000
MAX_USER_ID = 128
#: Payload fields that name one person's contact: an audience's recipients are reached at their own.
CONTACT_FIELDS = ("email", "phone", "first_name", "last_name", "locale")

RECIPIENTS, TOPIC, ALL = "recipients", "topic", "all"  # AudienceKind's values (models.py)


@dataclass(frozen=True, slots=True)
class Audience:
    kind: str  # RECIPIENTS, TOPIC or ALL
    recipients: tuple[str, ...] = ()  # sorted, each once (RECIPIENTS)
    topic: str = ""  # the topic's key (TOPIC)

    def canonical(self) -> dict[str, Any]:
        """The audience as the event's dedupe hash reads it."""
        if self.kind == RECIPIENTS:
            return {"recipients": list(self.recipients)}
        return {"to_topic": self.topic} if self.kind == TOPIC else {"to_all": True}


def parse_audience(data: dict[str, Any], payload: dict[str, Any], envelope_user: str
                   ) -> tuple[Audience | None, str | None]:
    """(the audience, None), (None, None) for a one-user event, or (None, why not)."""
    listed, topic, everyone = data.get("recipients"), data.get("to_topic"), data.get("to_all")
    user_ids = payload.get("user_ids")
    if listed is None and topic is None and everyone is None and user_ids is None:
        return None, None
    given = [name for name, value in (("recipients", listed), ("payload.user_ids", user_ids),
                                      ("to_topic", topic), ("to_all", everyone)) if value is not None]
    if everyone is False and len(given) == 1:
        return None, None  # "to_all": false says nothing
    if len(given) > 1:
        return None, f"{' and '.join(given)} cannot be combined: address an event one way"
    if envelope_user or payload.get("user_id") not in (None, ""):
        return None, f"{given[0]} cannot be combined with user_id: address an event one way"
    carried = [name for name in CONTACT_FIELDS if payload.get(name)]
    if carried:
        return None, (f"payload.{carried[0]} is one person's contact data and cannot go with {given[0]}: each "
                      "recipient is reached at their own contact in the directory")
    if everyone is not None:
        if everyone is not True:
            return None, "to_all must be true or false"
        return Audience(ALL), None
    if topic is not None:
        if not isinstance(topic, str) or not TOPIC_KEY.fullmatch(topic):
            return None, f"to_topic must be a topic key: {TOPIC_KEY_RULE}"
        return Audience(TOPIC, topic=topic), None
    field = "recipients" if listed is not None else "payload.user_ids"
    recipients, problem = _user_ids(listed if listed is not None else user_ids, field)
    if problem is not None:
        return None, problem
    return Audience(RECIPIENTS, recipients=recipients), None


def _user_ids(value: Any, field: str) -> tuple[tuple[str, ...], str | None]:
    if not isinstance(value, list) or not value:
        return (), f"{field} must be a non-empty list of user ids"
    if len(value) > MAX_RECIPIENTS:
        return (), f"{field} lists {len(value)} user ids; at most {MAX_RECIPIENTS} (a larger audience is a topic)"
    ids = set()
    for index, item in enumerate(value):
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            return (), f"{field}[{index}] must be a user id (a string or an integer)"
        text = str(item)
        if not text.strip() or len(text) > MAX_USER_ID:
            return (), f"{field}[{index}] must be 1-{MAX_USER_ID} characters"
        ids.add(text)
    return tuple(sorted(ids)), None
