"""A tenant's rule sets: every save is a new version row, never edited in place, so older versions stay
readable. The newest is the active one, and Tenant.rules_version names it (set in the same transaction), so
intake knows a tenant's version from the Tenant row it loads anyway."""

from __future__ import annotations

from django.db import models

from notifications.tenants.models import Tenant


class RuleSet(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="rule_sets")
    version = models.PositiveIntegerField()
    #: The rules as submitted (a JSON list; rules/README.md), validated on save.
    rules = models.JSONField(default=list, blank=True)
    #: Who saved it: "api" or "admin:<username>".
    saved_by = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "version"], name="ruleset_unique_version")]
        ordering = ["tenant_id", "-version"]

    def __str__(self) -> str:
        return f"{self.tenant_id} rules v{self.version}"
