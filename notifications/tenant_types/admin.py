"""Django admin for tenant-defined event types: saved through the same checks as the API, versioned the same."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from notifications.tenant_types.models import TenantEventType
from notifications.tenant_types.service import FIELDS
from notifications.tenant_types.validation import check_definition, check_name


class TenantEventTypeForm(forms.ModelForm):
    class Meta:
        model = TenantEventType
        fields = ("tenant", "name", "is_active", *FIELDS)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        tenant = data.get("tenant") or getattr(self.instance, "tenant", None)
        name = data.get("name") or self.instance.name
        if tenant is None or not name:
            return data
        try:
            if self.instance.pk is None:
                check_name(name)
            data.update(check_definition(tenant, name, {field: data.get(field) for field in FIELDS}))
        except ValidationError as err:
            for field, messages in err.message_dict.items():
                self.add_error(field.split(".", 1)[0] if field.split(".", 1)[0] in self.fields else None,
                               [f"{field}: {message}" for message in messages])
        return data


@admin.register(TenantEventType)
class TenantEventTypeAdmin(admin.ModelAdmin):
    form = TenantEventTypeForm
    list_display = ("name", "tenant", "version", "is_active", "updated_at")
    list_filter = ("is_active", "tenant")
    search_fields = ("name",)
    readonly_fields = ("version", "created_at", "updated_at")

    def get_readonly_fields(self, request: HttpRequest, obj: TenantEventType | None = None) -> tuple[str, ...]:
        """A saved type keeps its tenant and name: its stored events and records are found by them."""
        return (*self.readonly_fields, "tenant", "name") if obj is not None else tuple(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: TenantEventType, form: Any, change: bool) -> None:
        if change:  # every change is a new version (each process recompiles it on its next batch)
            obj.version += 1
        super().save_model(request, obj, form, change)
