from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings as django_settings

pytest_plugins = ["tests.fixtures"]  # the shared fixtures: one plugin module instead of cross-imported conftests

IS_POSTGRES = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "postgres" in item.keywords and not IS_POSTGRES:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: runs in the PostgreSQL pass of `make test`"))


def pytest_report_header(config: Any) -> str:
    return f"database: {django_settings.DATABASES['default']['ENGINE']} (CI={os.environ.get('CI', '')})"


@pytest.fixture(autouse=True)
def _isolated_files(settings: Any, tmp_path: Any) -> None:
    # A worker's retention sweep runs inline in tests (a thread of its own in service: tests/history exercise it).
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "OUTBOX_DIR": str(tmp_path / "outbox"),
                              "RETENTION_IN_BACKGROUND": False}
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
