"""The bounds of what a tenant may configure and register, in one place: its settings (rate limits, disabled
events and channels), its branding, its users' devices and preferences. The API's schemas, the model's clean()
(the admin) and intake's rate limiter all read them from here; README's "Tenant settings and limits" lists them."""

from __future__ import annotations

import re
from typing import Any

from notifications.storable import (
    CHANNEL_LENGTH,
    FIELD_NAME,
    ID_LENGTH,
    LOCALE_LENGTH,
    UNSTORABLE_MESSAGE,
    unstorable,
)

#: The key that means "any event type" or "any channel" (tenant settings, preferences).
WILDCARD = "*"

# Tenant.settings["rate_limits"][event_type][channel] = {"limit": N, "per_seconds": S}
RATE_LIMIT_MIN, RATE_LIMIT_MAX = 1, 1_000_000
RATE_WINDOW_MIN_SECONDS, RATE_WINDOW_MAX_SECONDS = 1, 31 * 24 * 3600
RATE_WINDOW_DEFAULT_SECONDS = 3600
#: A rule's "excess": "skip" (the default: records over the limit are skipped) or "digest" (notifications/digests)
EXCESS_SKIP, EXCESS_DIGEST = "skip", "digest"
MAX_SETTING_ENTRIES = 200  # event types in disabled_events, disabled_channels, rate_limits (each)

# Tenant.settings["default_delays"][event_type][channel or "*"] = seconds (scheduling.timing); at most the
# scheduling horizon (NOTIFICATIONS["SCHEDULE_HORIZON_DAYS"], 90 days by default).
DEFAULT_DELAY_MIN_SECONDS = 1

# Tenant.settings["allow_broadcast"]: events addressed `to_all` (notifications/audiences) reach every contact.
# Off by default: a wrong producer cannot mail a whole customer base by accident.
ALLOW_BROADCAST = "allow_broadcast"

# Tenant.branding
MAX_BRANDING_KEYS = 20
BRANDING_KEY = FIELD_NAME  # a template variable name
MAX_BRANDING_VALUE_LENGTH = 1000
COLOR = re.compile(r"#(?:[0-9A-Fa-f]{3}|[0-9A-Fa-f]{4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})")

# Devices and preferences, per user.
MAX_ACTIVE_DEVICES_PER_USER = 20  # registering one more deactivates the user's least recently registered
DEVICE_TOKEN_LENGTH = 512  # Device.token's column
MAX_DEVICE_SUBSCRIPTION_KEYS = 16
MAX_DEVICE_SUBSCRIPTION_TEXT = 4096
MAX_PREFERENCES_PER_USER = 256

# Template test sends, per tenant (NOTIFICATIONS["TEST_SENDS_PER_MINUTE"] overrides).
TEST_SENDS_PER_MINUTE = 10


def _text_problem(value: Any, max_length: int) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if unstorable(value):
        return UNSTORABLE_MESSAGE
    return None


def rate_rule_problem(rule: Any) -> str | None:
    """Why one rate-limit rule is out of range, or None."""
    if not isinstance(rule, dict) or "limit" not in rule or set(rule) - {"limit", "per_seconds", "excess"}:
        return "needs limit (and per_seconds, excess)"
    if rule.get("excess", EXCESS_SKIP) not in (EXCESS_SKIP, EXCESS_DIGEST):
        return f'excess must be "{EXCESS_SKIP}" or "{EXCESS_DIGEST}"'
    limit, seconds = rule["limit"], rule.get("per_seconds", RATE_WINDOW_DEFAULT_SECONDS)
    if type(limit) is not int or not RATE_LIMIT_MIN <= limit <= RATE_LIMIT_MAX:
        return f"limit must be an integer from {RATE_LIMIT_MIN} to {RATE_LIMIT_MAX:,}"
    if type(seconds) is not int or not RATE_WINDOW_MIN_SECONDS <= seconds <= RATE_WINDOW_MAX_SECONDS:
        return f"per_seconds must be an integer from {RATE_WINDOW_MIN_SECONDS} to {RATE_WINDOW_MAX_SECONDS:,}"
    return None


def clamped_rule(rule: Any) -> tuple[int, int] | None:
    """(limit, per_seconds) of a stored rule, pulled into range; None if it is not a rule at all. Intake reads
    rules through this, so a value stored before these bounds (or written around them) cannot overflow it."""
    if not isinstance(rule, dict):
        return None
    try:
        limit = int(rule["limit"])
        seconds = int(rule.get("per_seconds", RATE_WINDOW_DEFAULT_SECONDS))
    except (KeyError, TypeError, ValueError, OverflowError):
        return None
    return (min(max(limit, RATE_LIMIT_MIN), RATE_LIMIT_MAX),
            min(max(seconds, RATE_WINDOW_MIN_SECONDS), RATE_WINDOW_MAX_SECONDS))


def _names_problem(values: Any, max_length: int) -> str | None:
    if not isinstance(values, list):
        return "must be a list"
    if len(values) > MAX_SETTING_ENTRIES:
        return f"must have at most {MAX_SETTING_ENTRIES} entries"
    for value in values:
        problem = _text_problem(value, max_length)
        if problem:
            return f"entries {problem}"
    return None


def settings_problems(settings: Any) -> dict[str, str]:
    """Problems of a Tenant.settings value by key (empty when it is within bounds). Keys it does not know
    (e.g. inbox_jwt, set by a command) are left alone."""
    from notifications.channels.spec import CHANNEL_SPECS

    if not isinstance(settings, dict):
        return {"settings": "must be a JSON object"}
    problems: dict[str, str] = {}
    channels = set(CHANNEL_SPECS)
    if "disabled_events" in settings:
        problem = _names_problem(settings["disabled_events"], ID_LENGTH)
        if problem:
            problems["disabled_events"] = problem
    for key, allowed in (("disabled_channels", channels), ("rate_limits", channels | {WILDCARD})):
        value = settings.get(key, {})
        if not isinstance(value, dict) or len(value) > MAX_SETTING_ENTRIES:
            problems[key] = f"must be an object of at most {MAX_SETTING_ENTRIES} event types"
            continue
        for event_type, entry in value.items():
            where = f"{key}[{event_type[:ID_LENGTH]!r}]"
            problem = _text_problem(event_type, ID_LENGTH)
            if problem:
                problems[key] = f"event type {problem}"
            elif key == "disabled_channels":
                problem = _names_problem(entry, CHANNEL_LENGTH)
                unknown = set(entry) - allowed if not problem else set()
                if problem or unknown:
                    problems[where] = problem or f"unknown channel(s): {', '.join(sorted(unknown))}"
            elif not isinstance(entry, dict) or set(entry) - allowed:
                problems[where] = f"must map channels ({', '.join(sorted(allowed))}) to rules"
            else:
                for channel, rule in entry.items():
                    problem = rate_rule_problem(rule)
                    if problem:
                        problems[f"{where}[{channel!r}]"] = problem
    problems.update(_delay_problems(settings, channels | {WILDCARD}))
    if "cancels" in settings:  # supersede rules (scheduling.supersede: the rule and its checks)
        from notifications.scheduling.supersede import cancels_problems

        problems.update(cancels_problems(settings["cancels"]))
    from notifications.digests.settings import digest_problems

    problems.update(digest_problems(settings, channels | {WILDCARD}))
    if "default_locale" in settings:
        problem = _text_problem(settings["default_locale"], LOCALE_LENGTH)
        if problem:
            problems["default_locale"] = problem
    if "retention_days" in settings:  # how long history is kept (history.retention; the check: history.settings)
        from notifications.history.settings import retention_problems

        problems.update(retention_problems(settings["retention_days"]))
    problems.update(_time_problems(settings))
    if not isinstance(settings.get(ALLOW_BROADCAST, False), bool):
        problems[ALLOW_BROADCAST] = "must be true or false"
    return problems


def _time_problems(settings: dict[str, Any]) -> dict[str, str]:
    """default_timezone (an IANA name, scheduling.zones) and quiet_hours (a window, scheduling.quiet_hours)."""
    from notifications.scheduling.quiet_hours import window_problems
    from notifications.scheduling.zones import zone_problem

    problems = window_problems(settings["quiet_hours"]) if "quiet_hours" in settings else {}
    problem = zone_problem(settings.get("default_timezone"))
    if problem:
        problems["default_timezone"] = problem
    return problems


def _delay_problems(settings: dict[str, Any], allowed: set[str]) -> dict[str, str]:
    from notifications.scheduling.parse import horizon

    problems: dict[str, str] = {}
    if "allow_delaying_security" in settings and type(settings["allow_delaying_security"]) is not bool:
        problems["allow_delaying_security"] = "must be true or false"
    value = settings.get("default_delays", {})
    if not isinstance(value, dict) or len(value) > MAX_SETTING_ENTRIES:
        return {**problems, "default_delays": f"must be an object of at most {MAX_SETTING_ENTRIES} event types"}
    longest = int(horizon().total_seconds())
    for event_type, entry in value.items():
        where = f"default_delays[{event_type[:ID_LENGTH]!r}]"
        if _text_problem(event_type, ID_LENGTH):
            problems["default_delays"] = f"event type {_text_problem(event_type, ID_LENGTH)}"
        elif not isinstance(entry, dict) or not entry or set(entry) - allowed:
            problems[where] = f"must map channels ({', '.join(sorted(allowed))}) to seconds"
        else:
            for channel, seconds in entry.items():
                if type(seconds) is not int or not DEFAULT_DELAY_MIN_SECONDS <= seconds <= longest:
                    problems[f"{where}[{channel!r}]"] = (
                        f"must be whole seconds from {DEFAULT_DELAY_MIN_SECONDS} to {longest:,} (the scheduling "
                        "horizon)")
    return problems


def branding_problems(branding: Any) -> dict[str, str]:
    """Problems of a Tenant.branding value by key: at most MAX_BRANDING_KEYS keys named like template
    variables, string values of at most MAX_BRANDING_VALUE_LENGTH characters, a colour as #rgb, #rgba,
    #rrggbb or #rrggbbaa, an e-mail address as one, a logo as an http(s) URL."""
    from django.core.exceptions import ValidationError
    from django.core.validators import URLValidator, validate_email

    if not isinstance(branding, dict):
        return {"branding": "must be a JSON object"}
    if len(branding) > MAX_BRANDING_KEYS:
        return {"branding": f"must have at most {MAX_BRANDING_KEYS} keys"}
    problems: dict[str, str] = {}
    for key, value in branding.items():
        if not isinstance(key, str) or not BRANDING_KEY.fullmatch(key):
            problems["branding"] = "keys must be names of letters, digits and '_' (at most 64 characters)"
            continue
        problem = _text_problem(value, MAX_BRANDING_VALUE_LENGTH)
        if problem is None and value:
            try:
                if key.endswith("color") and not COLOR.fullmatch(value):
                    problem = "must be a colour: #rgb, #rgba, #rrggbb or #rrggbbaa"
                elif key.endswith("email"):
                    validate_email(value)
                elif key.endswith("url"):
                    URLValidator(schemes=["http", "https"])(value)
            except ValidationError:
                problem = "must be an e-mail address" if key.endswith("email") else "must be an http(s) URL"
        if problem:
            problems[f"branding.{key}"] = problem
    return problems
