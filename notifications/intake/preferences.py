"""Users' opt-outs for a batch, loaded in one query. The most specific choice wins:
(event, channel) > (event, *) > (*, channel) > (*, *). Without a choice, everything is on."""

from __future__ import annotations

from collections.abc import Iterable

import notifications.db  # noqa: F401 - registers the `any` lookup
from notifications.tenants.models import WILDCARD, Preference


class PreferenceBook:
    def __init__(self, choices: dict[tuple[str, str], dict[tuple[str, str], bool]]) -> None:
        self._choices = choices

    @classmethod
    def load(cls, users: Iterable[tuple[str, str]]) -> PreferenceBook:
        users = set(users)
        choices: dict[tuple[str, str], dict[tuple[str, str], bool]] = {}
        if users:
            rows = Preference.objects.filter(
                tenant_id__any={t for t, _ in users}, user_id__any={u for _, u in users}
            ).values_list("tenant_id", "user_id", "event_type", "channel", "enabled")
            for tenant, user, event_type, channel, enabled in rows:
                if (tenant, user) in users:
                    choices.setdefault((tenant, user), {})[(event_type, channel)] = enabled
        return cls(choices)

    def allows(self, tenant_id: str, user_id: str, event_type: str, channel: str) -> bool:
        mine = self._choices.get((tenant_id, user_id))
        if not mine:
            return True
        for key in ((event_type, channel), (event_type, WILDCARD), (WILDCARD, channel), (WILDCARD, WILDCARD)):
            if key in mine:
                return mine[key]
        return True
