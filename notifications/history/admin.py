"""Admin for history (registered by notifications/admin.py importing this module): the erasures' audit, read-only
(an erasure is made by the API or `manage.py erase_user`, and its entry is never edited)."""

from __future__ import annotations

from django.contrib import admin

from notifications.history.models import Erasure
from notifications.utils.readonly_admin import ReadOnlyAdminMixin


@admin.register(Erasure)
class ErasureAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("erased_at", "tenant_id", "pseudonym", "requested_by")
    list_filter = ("tenant_id",)
    readonly_fields = ("tenant_id", "pseudonym", "requested_by", "counts", "erased_at")
