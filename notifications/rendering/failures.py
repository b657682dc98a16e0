"""A record whose content cannot be made fails on its own, with reason `render_error`, whatever the error: a
template error, a handler bug, a recursion or memory error. Intake (in-app) and the delivery worker (the other
channels) both say it the same way: the error's type, and the text of our own errors only (a TemplateRenderError
names the template, field and error kind, never context values); any other error's text may quote the event's
values (secrets among them), so it is left out."""

from __future__ import annotations

from notifications.errors import NotificationError

RENDER_ERROR = "render_error"
MAX_DETAIL = 2000


def render_error_detail(err: BaseException) -> str:
    detail = str(err) if isinstance(err, NotificationError) else "cannot build the message"
    return f"{type(err).__name__}: {detail}"[:MAX_DETAIL]
