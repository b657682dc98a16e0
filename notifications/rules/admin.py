"""Admin for tenant rules (registered by notifications/admin.py importing this module). A saved version is never
edited: "add" saves a new version of a tenant's rules through the API's own path (rules.store, the same checks,
each problem on the form), prefilled with the tenant's current rules when opened as `?tenant=<id>`."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from notifications.rules import store
from notifications.rules.errors import RulesInvalid
from notifications.rules.models import RuleSet
from notifications.rules.validation import check_rules
from notifications.tenants.models import Tenant


class RuleSetForm(forms.ModelForm):
    class Meta:
        model = RuleSet
        fields = ("tenant", "rules")
        help_texts = {"rules": 'A JSON list of rules, e.g. [{"name": "big invoices by sms", "event_types": '
                               '["invoice.payment.failed"], "when": "payload.amount > 1000", "actions": '
                               '{"add_channels": ["sms"]}}] (notifications/rules/README.md)'}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        tenant = cleaned.get("tenant")
        if tenant is not None and "rules" in cleaned:
            try:
                _, self.warnings = check_rules(tenant, cleaned["rules"])
            except RulesInvalid as err:
                for problem in err.problems:
                    self.add_error("rules", str(problem))
        return cleaned


@admin.register(RuleSet)
class RuleSetAdmin(admin.ModelAdmin):
    form = RuleSetForm
    list_display = ("tenant", "version", "active", "saved_by", "created_at")
    list_select_related = ("tenant",)
    list_filter = ("tenant",)
    ordering = ("tenant_id", "-version")
    readonly_fields = ("version", "saved_by", "created_at", "shown_rules", "new_version")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)  # versions are never edited

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("tenant", "rules")
        return ("tenant", "version", "saved_by", "created_at", "shown_rules", "new_version")

    @admin.display(boolean=True, description="active")
    def active(self, obj: RuleSet) -> bool:
        return bool(obj.tenant.rules_version == obj.version)

    @admin.display(description="rules")
    def shown_rules(self, obj: RuleSet) -> str:
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(obj.rules, indent=2))

    @admin.display(description="edit")
    def new_version(self, obj: RuleSet) -> str:
        url = reverse("admin:notifications_ruleset_add") + f"?tenant={obj.tenant_id}"
        return format_html('<a href="{}">Save a new version from the current rules</a>', url)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        tenant_id = request.GET.get("tenant")
        if tenant_id and Tenant.objects.filter(pk=tenant_id).exists():
            current = store.current(tenant_id)
            initial["rules"] = current.rules if current else []
        return initial

    def save_model(self, request: HttpRequest, obj: RuleSet, form: Any, change: bool) -> None:
        """A new version through rules.store (the tenant's version moves with it), never the object as edited."""
        saved = store.save_rules(obj.tenant_id, obj.rules, saved_by=f"admin:{request.user.get_username()}")
        obj.pk, obj.version = saved.rule_set.pk, saved.rule_set.version
        for warning in saved.warnings:
            self.message_user(request, warning, level="warning")
