"""How a handler's default content (its `default_templates`, Jinja sources) becomes text. The template engine
lives in the rendering layer, above this one: NotificationsConfig.ready() binds it here, so `events` imports
nothing of rendering and `handler.get_content(...)` works wherever Django is set up."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from notifications.enums import Channel
from notifications.errors import NotBound

DefaultRenderer = Callable[[type, Channel, Mapping[str, str], Mapping[str, Any]], dict[str, str]]


def _unbound(handler_cls: type, channel: Channel, sources: Mapping[str, str],
             context: Mapping[str, Any]) -> dict[str, str]:
    raise NotBound(f"{handler_cls.__name__}'s default {channel.value} content needs the template engine, which "
                   "NotificationsConfig.ready() binds: set Django up first (django.setup())")


#: (handler class, channel, sources, context) -> rendered fields; the rendering engine once bound.
render_default: DefaultRenderer = _unbound


def bind_renderer(renderer: DefaultRenderer) -> None:
    global render_default
    render_default = renderer


def is_bound() -> bool:
    return render_default is not _unbound
