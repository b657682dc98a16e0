from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from notifications.conf import get_setting
from notifications.rendering.seeding import seed_templates
from notifications.tenants.models import Tenant


class Command(BaseCommand):
    help = "Create the demo tenant with its templates (used by `make run`)."

    def handle(self, *args: Any, **options: Any) -> None:
        tenant_id = get_setting("DEMO_TENANT_ID", "demo")
        tenant, created = Tenant.objects.get_or_create(
            id=tenant_id,
            defaults={
                "name": "Demo Company",
                "app_url": get_setting("DEFAULT_APP_URL", "http://127.0.0.1:8000"),
                "branding": {"company_name": "Demo Company", "support_email": "support@demo.example",
                             "primary_color": "#0f766e"},
            },
        )
        report = seed_templates(tenant.id)
        state = "created" if created else "exists"
        self.stdout.write(f"Demo tenant {tenant.id!r} {state}; templates: {report}")
