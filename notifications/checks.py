"""System checks for dangerous configuration, with stable ids."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

from notifications.conf import get_setting


@register(deploy=True)
def check_secrets(app_configs: Any, **kwargs: Any) -> list[Warning]:
    problems = []
    if not settings.DEBUG and settings.SECRET_KEY.startswith("dev-insecure"):
        problems.append(
            Warning("SECRET_KEY is the development default", hint="Set SECRET_KEY in the environment.",
                    id="notifications.W001")
        )
    if not get_setting("ENCRYPTION_KEYS", []):
        problems.append(
            Warning(
                "NOTIFICATIONS_ENCRYPTION_KEYS is not set: secrets at rest are encrypted with a key derived from "
                "SECRET_KEY",
                hint="Set NOTIFICATIONS_ENCRYPTION_KEYS to one or more Fernet keys (newest first).",
                id="notifications.W002",
            )
        )
    return problems


@register()
def check_runtime_only_handlers(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """A handler registered in this process's memory only (a Django shell): `manage.py check` run from there."""
    from notifications.events.configured import runtime_only

    return [Warning(found.warning, id="notifications.W003") for found in runtime_only()]


@register()
def check_retention(app_configs: Any, **kwargs: Any) -> list[Error]:
    """NOTIFICATIONS["RETENTION_DAYS"]: days from 1 (0 would empty a class of history at once) or null."""
    from notifications.errors import NotificationConfigurationError
    from notifications.history.settings import service_days

    try:
        service_days()
    except NotificationConfigurationError as err:
        return [Error(str(err), hint="Set NOTIFICATIONS_RETENTION_DAYS_EVENTS, _RECORDS, _INBOX to a number of days "
                      "or 'forever'.", id="notifications.E001")]
    return []


@register()
def check_partitions(app_configs: Any, **kwargs: Any) -> list[Error]:
    """NOTIFICATIONS["PARTITION_DAYS"] and ["PARTITIONS_AHEAD"]: whole numbers from 1."""
    from notifications.errors import NotificationConfigurationError
    from notifications.history.settings import partition_settings

    try:
        partition_settings()
    except NotificationConfigurationError as err:
        return [Error(str(err), id="notifications.E002")]
    return []
