"""Tenants, their contact directory and their users' preferences."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Self

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Now

from notifications.tenants.limits import WILDCARD

# \Z, not $: a `$` also matches before a final newline, and "acme\n" would be a second tenant shown as "acme".
TENANT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")


def validate_tenant_id(value: str) -> None:
    if not TENANT_ID_PATTERN.match(value or ""):
        raise ValidationError(
            "Tenant id must be 1-64 characters: letters, digits, '.', '_', ':' or '-', starting with a letter or digit"
        )


class Tenant(models.Model):
    """A customer of the service. Created with defaults the first time one of its events arrives.

    settings: {"disabled_events": ["content.liked"], "disabled_channels": {"invoice.payment.failed": ["sms"]},
               "default_locale": "en_US"}
    branding: {"company_name": "...", "logo_url": "...", "primary_color": "#...", "support_email": "..."}
    """

    id = models.CharField(primary_key=True, max_length=64, validators=[validate_tenant_id])
    name = models.CharField(max_length=200, blank=True)
    app_url = models.URLField(blank=True, help_text="Base URL of the tenant's application, used to build links")
    branding = models.JSONField(default=dict, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    #: The active version of the tenant's rules (notifications/rules), 0: none. Set with each save, in its
    #: transaction, so intake knows which compiled rules apply from the row it loads anyway.
    rules_version = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name or self.id

    def clean(self) -> None:
        """Settings and branding within their bounds (notifications.tenants.limits), text the database can
        store: the admin and the API both save through this."""
        from notifications.storable import UNSTORABLE_MESSAGE, unstorable
        from notifications.tenants.limits import branding_problems, settings_problems

        problems = {**settings_problems(self.settings), **branding_problems(self.branding)}
        problems.update({field: UNSTORABLE_MESSAGE for field in ("name", "app_url")
                         if unstorable(getattr(self, field) or "")})
        errors: dict[str, list[str]] = {}
        for key, problem in problems.items():
            field = key.split(".", 1)[0]
            errors.setdefault(field if field in ("name", "app_url", "branding") else "settings", []).append(
                f"{key}: {problem}")
        if errors:
            raise ValidationError(errors)

    @property
    def company_name(self) -> str:
        return str(self.branding.get("company_name") or self.name or self.id)

    def is_event_disabled(self, event_type: str) -> bool:
        return event_type in (self.settings.get("disabled_events") or ())

    def is_channel_disabled(self, event_type: str, channel: str) -> bool:
        disabled = self.settings.get("disabled_channels") or {}
        return channel in (disabled.get(event_type) or ()) or channel in (disabled.get(WILDCARD) or ())

    @classmethod
    def ensure(cls, tenant_ids: Iterable[str]) -> dict[str, Self]:
        """The tenants with these ids, creating missing ones with defaults (two queries at most)."""
        wanted = set(tenant_ids)
        found = {tenant.id: tenant for tenant in cls.objects.filter(id__in=wanted)}
        missing = wanted - set(found)
        if missing:
            cls.objects.bulk_create([cls(id=tid, name=tid) for tid in missing], ignore_conflicts=True)
            found.update({tenant.id: tenant for tenant in cls.objects.filter(id__in=missing)})
        return found


class Contact(models.Model):
    """Where a tenant's user is reached. Filled from payloads that carry contact data and by the API."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="contacts")
    user_id = models.CharField(max_length=128)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=32, blank=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    locale = models.CharField(max_length=35, blank=True)
    #: IANA time zone ("Europe/Berlin"); blank: the tenant's default (settings["default_timezone"]), else UTC.
    timezone = models.CharField(max_length=64, blank=True, default="", db_default="")
    #: The user's own quiet hours (scheduling/quiet_hours.py), e.g. {"start": "22:00", "end": "07:00",
    #: "channels": ["push", "sms"]}; empty: the tenant's.
    quiet_hours = models.JSONField(default=dict, blank=True)
    #: A broadcast (`to_all`, notifications/audiences) reaches the contacts created before its event.
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user_id"], name="contact_unique_user")]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.user_id}"

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def clean(self) -> None:
        """The time zone is an IANA name (stored in its own spelling) and the quiet hours a window: the admin
        saves through this, the API checks the same rules in its schema."""
        from notifications.scheduling.quiet_hours import window_problems
        from notifications.scheduling.zones import canonical_zone, zone_problem

        errors: dict[str, list[str]] = {}
        problem = zone_problem(self.timezone)
        if problem:
            errors["timezone"] = [problem]
        elif self.timezone:
            self.timezone = canonical_zone(self.timezone) or self.timezone
        quiet = window_problems(self.quiet_hours)
        if quiet:
            errors["quiet_hours"] = [f"{key}: {text}" for key, text in quiet.items()]
        if errors:
            raise ValidationError(errors)

    def as_dict(self) -> dict[str, Any]:
        """The contact's text fields, as the worker's templates read them (quiet hours are intake's)."""
        return {
            "email": self.email,
            "phone": self.phone,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "locale": self.locale,
            "timezone": self.timezone,
        }


class Preference(models.Model):
    """A user's choice for an event type and channel; '*' in either means all."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="preferences")
    user_id = models.CharField(max_length=128)
    event_type = models.CharField(max_length=128, default=WILDCARD)
    channel = models.CharField(max_length=16, default=WILDCARD)
    enabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "user_id", "event_type", "channel"], name="preference_unique_choice"
            )
        ]

    def __str__(self) -> str:
        state = "on" if self.enabled else "off"
        return f"{self.tenant_id}/{self.user_id}: {self.event_type}/{self.channel} {state}"
