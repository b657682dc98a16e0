from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings as django_settings

from notifications.channels.models import Device
from notifications.delivery.worker import DeliveryReport, deliver_until_idle
from notifications.events.registry import event_registry
from notifications.tenants.models import Tenant

IS_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "postgres" in item.keywords and not IS_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test`"))


def pytest_report_header(config: Any) -> str:
    return f"database: {django_settings.DATABASES['default']['ENGINE']} (CI={os.environ.get('CI', '')})"


@pytest.fixture(autouse=True)
def _isolated_files(settings: Any, tmp_path: Any) -> None:
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "OUTBOX_DIR": str(tmp_path / "outbox")}
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")


@pytest.fixture
def tenant(db: Any) -> Tenant:
    """Tenant 'acme'; its user u-1 (the factories' user) has one push device."""
    tenant = Tenant.objects.create(
        id="acme", name="Acme Inc", app_url="https://acme.example.com",
        branding={"company_name": "Acme", "support_email": "help@acme.example.com"},
    )
    Device.objects.create(tenant=tenant, user_id="u-1", platform="fcm", token="fcm-token-u1")
    return tenant


@pytest.fixture
def deliver() -> Any:
    def run() -> DeliveryReport:
        return deliver_until_idle()

    return run


@pytest.fixture
def process() -> Any:
    return event_registry.process_event


@pytest.fixture
def shared_db(tmp_path: Any) -> Any:
    from tests.shared import SharedDatabase

    database = SharedDatabase(tmp_path)
    yield database
    database.drop()
