"""A digest's message: the digest template of its event type and channel, rendered with the digest record's own
context plus `events` (the window's events, oldest first, at most 50: each its payload and `occurred_at`),
`count` (how many events the window held) and `others` (count - 1).

The template: the tenant's active template named `<event type>_<channel>_digest` (content_liked_push_digest),
else the default below for the event type, else the generic one of the channel."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from notifications.channels.spec import CHANNEL_SPECS
from notifications.delivery.secrets import PURGED_MARKER
from notifications.digests.rules import digest_template_name
from notifications.enums import Channel
from notifications.events.handlers.texts import (
    LIKED_QUOTED_POST,
    LIKED_QUOTED_TITLE,
    LIKED_YOUR_POST,
    LIKED_YOUR_TITLE,
    by_others,
    catalog,
    greeting,
    liked,
)
from notifications.i18n import SOURCE_LANGUAGE
from notifications.rendering.engine import html_from_text, render_sources
from notifications.rendering.locales import locale_plan
from notifications.rendering.service import RenderedContent, pick_template, template_source
from notifications.security.crypto import ENCRYPTED_MARKER

if TYPE_CHECKING:
    from notifications.digests.closing import Digest
    from notifications.events.base_handler import BaseEventHandler

# Each sentence is a message of the catalogs (notifications/events/handlers/texts.py says how they are written);
# `liker` and `mentioner` are the window's first event's (digest_context), `others` the rest of the window.
_LIKED_TITLE = "{% if content_title %}" + LIKED_YOUR_TITLE + "{% else %}" + LIKED_YOUR_POST + "{% endif %}"
_LIKED_SENTENCE = "{% if content_title %}" + liked("{{ who }} liked your {{ content_title }}.",
                                                   "{{ who }} and {{ count }} other liked your {{ content_title }}.") \
    + "{% else %}" + liked("{{ who }} liked your post.", "{{ who }} and {{ count }} other liked your post.") \
    + "{% endif +%}"
_MENTIONED = by_others("{{ who }} mentioned you", "{{ who }} and {{ count }} other mentioned you", "mentioner")
_MENTIONED_COLON = by_others("{{ who }} mentioned you:", "{{ who }} and {{ count }} other mentioned you:",
                             "mentioner", line_end=True)
_MENTIONS = "{% trans %}{{ count }} new mention{% pluralize %}{{ count }} new mentions{% endtrans %}"
_NOTIFICATIONS = "{% trans %}{{ count }} new notification{% pluralize %}{{ count }} new notifications{% endtrans %}"
_YOU_HAVE = ("{% trans %}You have {{ count }} new notification.{% pluralize %}You have {{ count }} new notifications."
             "{% endtrans %}")
_GREETING = greeting("recipient_first_name")
_MENTION_LINE = ("{% if e.resource_title %}{% trans who=e.mentioned_by or someone, title=e.resource_title %}{{ who }} "
                 "in {{ title }}{% endtrans %}{% else %}{{ e.mentioned_by or someone }}{% endif %}")

DEFAULT_DIGEST_TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "content.liked": {
        Channel.IN_APP: {"title": _LIKED_TITLE,
                         "body": "{% if content_title %}" + LIKED_QUOTED_TITLE + "{% else %}" + LIKED_QUOTED_POST
                                 + "{% endif %}",
                         "action_url": "{{ link or app_url }}"},
        Channel.PUSH: {"title": "{% trans %}{{ count }} new like{% pluralize %}{{ count }} new likes{% endtrans %}",
                       "body": _LIKED_TITLE},
        Channel.EMAIL: {"subject": _LIKED_TITLE,
                        "body": _GREETING + "\n" + _LIKED_SENTENCE + "\n\n{{ link or app_url }}\n"},
    },
    "comment.mentioned": {
        Channel.IN_APP: {"title": _MENTIONED, "body": "{% trans %}{{ count }} new mention.{% pluralize %}"
                                                      "{{ count }} new mentions.{% endtrans %}",
                         "action_url": "{{ link or app_url }}"},
        Channel.PUSH: {"title": _MENTIONS, "body": _MENTIONED},
        Channel.EMAIL: {"subject": _MENTIONS,
                        "body": _GREETING + "\n" + _MENTIONED_COLON + "\n"
                                "{% for e in events %}\n- " + _MENTION_LINE + "{% endfor %}"
                                "\n\n{{ app_url }}\n"},
    },
}
GENERIC_DIGEST_TEMPLATES: dict[str, dict[str, str]] = {
    Channel.EMAIL: {"subject": _NOTIFICATIONS,
                    "body": _GREETING + "\n" + _YOU_HAVE.replace("{% endtrans %}", "{% endtrans +%}")
                    + "\n\n{{ app_url }}\n"},
    Channel.SMS: {"body": _YOU_HAVE},
    Channel.PUSH: {"title": _NOTIFICATIONS, "body": "{% trans %}Open the app to see them.{% endtrans %}"},
    Channel.IN_APP: {"title": _NOTIFICATIONS, "body": _YOU_HAVE, "action_url": "{{ app_url }}"},
}


_ENGLISH = locale_plan(None)


def default_sources(event_type: str, channel: str) -> Mapping[str, str]:
    sources = DEFAULT_DIGEST_TEMPLATES.get(event_type, {}).get(channel) or GENERIC_DIGEST_TEMPLATES.get(channel)
    if sources is None:
        raise LookupError(f"no digest template for channel {channel}")
    return sources


def digest_context(handler: BaseEventHandler, context: dict[str, Any], digest: Digest) -> dict[str, Any]:
    """The digest record's context plus the window's events. An event's secret fields (sealed, or purged once
    it was digested) are left out: a digest never shows them."""
    events = []
    for event_id, occurred_at, stored in digest.events:
        plain = {key: value for key, value in stored.items() if not _secret(value)}
        if "user_id" not in plain and context.get("user_id"):  # an audience event's payload: the recipient's
            plain["user_id"] = context["user_id"]
        try:
            payload = handler.load_payload(plain)
        except Exception:  # noqa: BLE001 - a payload that needs its secrets: its plain fields as stored
            payload = plain
        events.append({**(payload if isinstance(payload, dict) else {}), "event_id": event_id,
                       "occurred_at": occurred_at})
    someone = catalog(context).gettext("Someone")
    first = events[0] if events else {}
    return {**context, "events": events, "count": digest.count, "others": max(digest.count - 1, 0),
            "someone": someone, "liker": first.get("liked_by") or someone,
            "mentioner": first.get("mentioned_by") or someone}


def render_digest(handler: BaseEventHandler, event_type: str, channel: Channel, context: dict[str, Any],
                  tenant_id: str, digest: Digest) -> RenderedContent:
    scope = digest_context(handler, context, digest)
    plan = context.get("locale_plan")
    language = plan.language if plan is not None else SOURCE_LANGUAGE
    name = digest_template_name(event_type, channel.value)
    template = pick_template(digest.templates, plan or _ENGLISH) if digest.templates else None
    if template is not None:
        content_hash = hashlib.sha1(json.dumps(template.content, sort_keys=True).encode(),
                                    usedforsecurity=False).hexdigest()
        fields = render_sources(("tenant", template.pk, template.version, content_hash, language), template.content,
                                scope, label=f"template {name}", tenant_id=tenant_id, language=language)
        source = template_source(name, template)
    else:
        sources = default_sources(event_type, channel.value)
        fields = render_sources(("digest", event_type, channel.value, id(sources), language), sources, scope,
                                label=f"default digest {event_type} {channel.value}", tenant_id=tenant_id,
                                language=language)
        source = f"digest:default[{language}]"
    if CHANNEL_SPECS[channel].html_from_body and not fields.get("html") and fields.get("body"):
        fields["html"] = html_from_text(fields["body"], scope)
    return RenderedContent(fields=fields, source=source)


def _secret(value: Any) -> bool:
    """A sealed secret ({"$enc": ...}) or a purged one ({"$purged": true})."""
    return isinstance(value, dict) and len(value) == 1 and (ENCRYPTED_MARKER in value or PURGED_MARKER in value)
