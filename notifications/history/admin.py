"""Admin for history (registered by notifications/admin.py importing this module): the erasures' audit, read-only
(an erasure is made by the API or `manage.py erase_user`, and its entry is never edited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from notifications.history.models import Erasure


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin):
    list_display = ("erased_at", "tenant_id", "pseudonym", "requested_by")
    list_filter = ("tenant_id",)
    readonly_fields = ("tenant_id", "pseudonym", "requested_by", "counts", "erased_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
