"""A handler's default content is rendered by the template engine bound in NotificationsConfig.ready()."""

from __future__ import annotations

from typing import Any

import pytest

from notifications.enums import Channel
from notifications.errors import NotBound
from notifications.events import content
from notifications.events.handlers.app import TaskAssignedHandler
from notifications.rendering.engine import render_default


def test_the_app_binds_the_rendering_engine() -> None:
    assert content.render_default is render_default


def test_unbound_default_content_names_the_problem(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content, "render_default", content._unbound)
    handler = TaskAssignedHandler()
    with pytest.raises(NotBound, match="TaskAssignedHandler's default email content needs the template engine"):
        handler.get_content(Channel.EMAIL, "task.assigned", {})


def test_a_bound_renderer_gets_the_handlers_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Any, ...]] = []

    def renderer(handler_cls: type, channel: Channel, sources: Any, context: Any) -> dict[str, str]:
        calls.append((handler_cls, channel, sources, context))
        return {"body": "rendered"}

    monkeypatch.setattr(content, "render_default", renderer)
    assert TaskAssignedHandler().get_content(Channel.IN_APP, "task.assigned", {"a": 1}) == {"body": "rendered"}
    default = TaskAssignedHandler.default_templates[Channel.IN_APP]
    assert calls == [(TaskAssignedHandler, Channel.IN_APP, default, {"a": 1})]
