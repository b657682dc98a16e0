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
from notifications.rendering.engine import html_from_text, render_sources
from notifications.rendering.service import RenderedContent
from notifications.security.crypto import ENCRYPTED_MARKER

if TYPE_CHECKING:
    from notifications.digests.closing import Digest
    from notifications.events.base_handler import BaseEventHandler

_OTHERS = "{% if others %} and {{ others }} other{{ 's' if others != 1 }}{% endif %}"
# liked_by and mentioned_by are display-only, optional in the payload (docs/events-and-templates.md).
_LIKERS = "{{ (events[0].liked_by if events else '') or 'Someone' }}" + _OTHERS
_MENTIONERS = "{{ (events[0].mentioned_by if events else '') or 'Someone' }}" + _OTHERS

DEFAULT_DIGEST_TEMPLATES: dict[str, dict[str, dict[str, str]]] = {
    "content.liked": {
        Channel.IN_APP: {"title": _LIKERS + " liked your {{ content_title or 'post' }}",
                         "body": _LIKERS + " liked \"{{ content_title or 'your post' }}\".",
                         "action_url": "{{ link or app_url }}"},
        Channel.PUSH: {"title": "{{ count }} new likes", "body": _LIKERS + " liked your {{ content_title or 'post' }}"},
        Channel.EMAIL: {"subject": _LIKERS + " liked your {{ content_title or 'post' }}",
                        "body": "Hi {{ recipient_first_name or 'there' }},\n\n" + _LIKERS
                                + " liked your {{ content_title or 'post' }}.\n\n{{ link or app_url }}\n"},
    },
    "comment.mentioned": {
        Channel.IN_APP: {"title": _MENTIONERS + " mentioned you", "body": "{{ count }} new mentions.",
                         "action_url": "{{ link or app_url }}"},
        Channel.PUSH: {"title": "{{ count }} new mentions", "body": _MENTIONERS + " mentioned you"},
        Channel.EMAIL: {"subject": "{{ count }} new mentions",
                        "body": "Hi {{ recipient_first_name or 'there' }},\n\n" + _MENTIONERS + " mentioned you:\n"
                                "{% for e in events %}\n- {{ e.mentioned_by or 'Someone' }}"
                                "{% if e.resource_title %} in {{ e.resource_title }}{% endif %}{% endfor %}"
                                "\n\n{{ app_url }}\n"},
    },
}
GENERIC_DIGEST_TEMPLATES: dict[str, dict[str, str]] = {
    Channel.EMAIL: {"subject": "{{ count }} new notifications",
                    "body": "Hi {{ recipient_first_name or 'there' }},\n\nYou have {{ count }} new notifications."
                            "\n\n{{ app_url }}\n"},
    Channel.SMS: {"body": "You have {{ count }} new notifications."},
    Channel.PUSH: {"title": "{{ count }} new notifications", "body": "Open the app to see them."},
    Channel.IN_APP: {"title": "{{ count }} new notifications", "body": "You have {{ count }} new notifications.",
                     "action_url": "{{ app_url }}"},
}


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
    return {**context, "events": events, "count": digest.count, "others": max(digest.count - 1, 0)}


def render_digest(handler: BaseEventHandler, event_type: str, channel: Channel, context: dict[str, Any],
                  tenant_id: str, digest: Digest) -> RenderedContent:
    scope = digest_context(handler, context, digest)
    name = digest_template_name(event_type, channel.value)
    template = digest.template
    if template is not None:
        content_hash = hashlib.sha1(json.dumps(template.content, sort_keys=True).encode(),
                                    usedforsecurity=False).hexdigest()
        fields = render_sources(("tenant", template.pk, template.version, content_hash), template.content, scope,
                                label=f"template {name}", tenant_id=tenant_id)
        source = f"template:{name}@v{template.version}"
    else:
        sources = default_sources(event_type, channel.value)
        fields = render_sources(("digest", event_type, channel.value, id(sources)), sources, scope,
                                label=f"default digest {event_type} {channel.value}", tenant_id=tenant_id)
        source = "digest:default"
    if CHANNEL_SPECS[channel].html_from_body and not fields.get("html") and fields.get("body"):
        fields["html"] = html_from_text(fields["body"], scope)
    return RenderedContent(fields=fields, source=source)


def _secret(value: Any) -> bool:
    """A sealed secret ({"$enc": ...}) or a purged one ({"$purged": true})."""
    return isinstance(value, dict) and len(value) == 1 and (ENCRYPTED_MARKER in value or PURGED_MARKER in value)
