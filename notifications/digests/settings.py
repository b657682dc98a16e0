"""The check of a tenant's digest settings (Tenant.clean via tenants.limits.settings_problems, so the API's
settings endpoint and the admin refuse a bad one with a message naming the bad part). The rule itself is
rules.py; intake reads a stored value defensively (rules.rule_from) whatever this check said."""

from __future__ import annotations

from typing import Any

from notifications.digests.rules import DIGESTS, MAX_KEY_FIELDS, parse_schedule
from notifications.storable import FIELD_NAME

WINDOW_MIN_SECONDS, WINDOW_MAX_SECONDS = 1, 31 * 24 * 3600
MAX_DIGEST_EVENT_TYPES = 200
MAX_EVENT_TYPE_LENGTH = 128
_KNOWN = {"window_seconds", "schedule", "key", "first_at_once"}


def digest_problems(settings: Any, channels: set[str]) -> dict[str, str]:
    """Problems of settings["digests"] by where they are (`digests['content.liked']['push'].key`)."""
    if not isinstance(settings, dict) or DIGESTS not in settings:
        return {}
    value = settings[DIGESTS]
    if not isinstance(value, dict) or len(value) > MAX_DIGEST_EVENT_TYPES:
        return {DIGESTS: f"must be an object of at most {MAX_DIGEST_EVENT_TYPES} event types"}
    problems: dict[str, str] = {}
    for event_type, entry in value.items():
        if not isinstance(event_type, str) or not event_type or len(event_type) > MAX_EVENT_TYPE_LENGTH:
            problems[DIGESTS] = f"event types must be text of 1 to {MAX_EVENT_TYPE_LENGTH} characters"
            continue
        where = f"{DIGESTS}[{event_type!r}]"
        if not isinstance(entry, dict) or not entry or set(entry) - channels:
            problems[where] = f"must map channels ({', '.join(sorted(channels))}) to digest rules"
            continue
        for channel, rule in entry.items():
            problem = rule_problem(rule)
            if problem:
                problems[f"{where}[{channel!r}]{problem[0]}"] = problem[1]
    return problems


def rule_problem(rule: Any) -> tuple[str, str] | None:
    """(where in the rule, what is wrong) or None."""
    if not isinstance(rule, dict):
        return "", "must be an object with window_seconds or schedule"
    unknown = set(rule) - _KNOWN
    if unknown:
        return "", f"unknown field(s) {', '.join(sorted(map(str, unknown)))}: use {', '.join(sorted(_KNOWN))}"
    if ("window_seconds" in rule) == ("schedule" in rule):
        return "", "needs window_seconds or schedule (one of them)"
    if "window_seconds" in rule:
        seconds = rule["window_seconds"]
        if type(seconds) is not int or not WINDOW_MIN_SECONDS <= seconds <= WINDOW_MAX_SECONDS:
            return ".window_seconds", f"must be whole seconds from {WINDOW_MIN_SECONDS} to {WINDOW_MAX_SECONDS:,}"
    else:
        parsed = parse_schedule(rule["schedule"])
        if isinstance(parsed, str):
            return ".schedule", parsed
    fields = rule.get("key", [])
    if not isinstance(fields, list) or len(fields) > MAX_KEY_FIELDS:
        return ".key", f"must be a list of at most {MAX_KEY_FIELDS} payload field names"
    for name in fields:
        if not isinstance(name, str) or not FIELD_NAME.fullmatch(name):
            return ".key", "payload field names are letters, digits and _ (at most 64), e.g. content_id"
    if "first_at_once" in rule and type(rule["first_at_once"]) is not bool:
        return ".first_at_once", "must be true or false"
    return None
