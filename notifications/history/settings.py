"""The retention settings (history/retention.py has the rule and the pruning): days per class of history, per tenant
over the service's defaults, and their check. No model is imported here: tenants.limits checks the setting."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from notifications.conf import get_setting
from notifications.errors import NotificationConfigurationError

if TYPE_CHECKING:
    from notifications.tenants.models import Tenant

EVENTS, RECORDS, INBOX = "events", "records", "inbox"
CLASSES = (RECORDS, EVENTS, INBOX)  # records first: an event expires only once its records are gone
DEFAULT_DAYS = {EVENTS: 90, RECORDS: 90, INBOX: 180}
#: The tenant setting.
SETTING = "retention_days"
MIN_DAYS, MAX_DAYS = 1, 36500


def retention_days(tenant: Tenant | None) -> dict[str, int | None]:
    """Days each class is kept for this tenant (None: forever): its setting over the service's defaults (a tenant
    of None: the defaults). Raises NotificationConfigurationError when the defaults are not days (0 would empty a
    class at once: checked at start-up by check_setup and the system checks too)."""
    days: dict[str, int | None] = {**DEFAULT_DAYS, **service_days()}
    own = tenant.settings.get(SETTING) if tenant is not None and isinstance(tenant.settings, dict) else None
    if isinstance(own, dict) and not retention_problems(own):
        days.update(own)
    return days


def service_days() -> dict[str, int | None]:
    """NOTIFICATIONS["RETENTION_DAYS"], checked."""
    configured = get_setting("RETENTION_DAYS", {})
    problems = retention_problems(configured)
    if problems:
        raise NotificationConfigurationError(
            "NOTIFICATIONS['RETENTION_DAYS'] (NOTIFICATIONS_RETENTION_DAYS_*): " + "; ".join(problems.values()))
    return dict(configured)


def retention_problems(value: Any) -> dict[str, str]:
    """Problems of settings["retention_days"] (for Tenant.clean via tenants.limits)."""
    if not isinstance(value, dict) or set(value) - set(DEFAULT_DAYS):
        return {SETTING: f"must be an object with some of {', '.join(DEFAULT_DAYS)}, each a number of days or null"}
    return {f"{SETTING}[{name!r}]": f"must be a whole number of days from {MIN_DAYS} to {MAX_DAYS}, or null"
            for name, days in value.items() if days is not None and (
                isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS)}


def partition_settings() -> tuple[int, int]:
    """(NOTIFICATIONS["PARTITION_DAYS"], ["PARTITIONS_AHEAD"]), checked: a partition 1 to 366 days wide, 1 to 52
    made ahead (0 days wide would never end a range)."""
    days, ahead = get_setting("PARTITION_DAYS", 7), get_setting("PARTITIONS_AHEAD", 2)
    for name, value, most in (("PARTITION_DAYS", days, 366), ("PARTITIONS_AHEAD", ahead, 52)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
            raise NotificationConfigurationError(
                f"NOTIFICATIONS['{name}'] (NOTIFICATIONS_{name}) must be a whole number from 1 to {most}, "
                f"not {value!r}")
    return days, ahead
