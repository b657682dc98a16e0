"""The audit of erasures: that a person's data was erased, when and at whose request, never who they were."""

from __future__ import annotations

from django.db import models


class Erasure(models.Model):
    """One erasure of one person's data (history/erasure.py). `pseudonym` is what their rows now carry instead
    of their user id: random, so nothing links it back to them; `counts` says what was erased in each table."""

    tenant_id = models.CharField(max_length=64, db_index=True)
    pseudonym = models.CharField(max_length=40, unique=True)
    requested_by = models.CharField(max_length=100, blank=True, help_text="'api key <prefix>' or 'command'")
    counts = models.JSONField(default=dict)
    erased_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-erased_at"]

    def __str__(self) -> str:
        return f"{self.tenant_id}/{self.pseudonym} at {self.erased_at:%Y-%m-%d %H:%M}"
