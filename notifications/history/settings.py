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
