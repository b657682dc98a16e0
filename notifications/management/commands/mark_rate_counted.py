"""`manage.py mark_rate_counted`: marks the last 31 days' records the tenants' rate-limit rules count now
(`rate_counted`, intake/ratelimits.py), as migration 0022 did at the upgrade. Run it once every consumer and
worker runs the code of 0022: records that processes of the code before wrote meanwhile are not marked, and a
rule does not count them until then. Only unmarked records are touched, a day of one tenant per statement."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand

# The migration's own marking (a migration keeps its code as it ran): one rule for what counts, here and there.
_MIGRATION = "notifications.migrations.0022_rate_counted_index"


class Command(BaseCommand):
    help = "Mark the last 31 days' records the tenants' rate-limit rules count (after an upgrade's rollout)."

    def handle(self, *args: Any, **options: Any) -> None:
        marked = import_module(_MIGRATION).mark_counted(apps, None)
        self.stdout.write(f"marked {marked:,} records counted by the tenants' rate-limit rules")
