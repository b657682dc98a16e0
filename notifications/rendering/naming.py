from __future__ import annotations

from notifications.enums import Channel


def template_name(event_type: str, channel: Channel | str) -> str:
    """The guide's convention: 'user.registration.completed' + email -> 'user_registration_completed_email'."""
    return f"{event_type.replace('.', '_')}_{Channel(channel).value}"
