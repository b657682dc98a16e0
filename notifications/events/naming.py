from __future__ import annotations

from functools import lru_cache

from notifications.enums import Channel


@lru_cache(maxsize=4096)
def template_name(event_type: str, channel: Channel | str) -> str:
    """The guide's convention: 'user.registration.completed' + email -> 'user_registration_completed_email'."""
    return f"{event_type.replace('.', '_')}_{Channel(channel).value}"
