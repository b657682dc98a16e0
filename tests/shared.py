"""A database that subprocesses (consumers, workers) share with the test: a SQLite file, or a fresh
PostgreSQL database in the PostgreSQL pass. The test reads it with raw SQL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings

ROOT = Path(__file__).resolve().parent.parent

# Code for `run_python` at a migration before 0021: the records model and intake's record rows without the column
# 0021 adds, as the code of that time had them (every insert names all of a model's columns, so today's code
# cannot write there).
BEFORE_0021 = """
from notifications.delivery.models import NotificationRecord as _Record
from notifications.intake.planning import Planned as _Planned
_Record._meta.local_fields.remove(_Record._meta.get_field("rate_counted"))
_Record._meta._expire_cache()
assert _Planned.COLUMNS[-1] == "rate_counted"
_Planned.COLUMNS, _row = _Planned.COLUMNS[:-1], _Planned.row
_Planned.row = lambda self: _row(self)[:-1]
"""


class SharedDatabase:
    """A migrated database that subprocesses reach through DATABASE_URL and the test reads with raw SQL."""

    def __init__(self, tmp_path: Path) -> None:
        default = django_settings.DATABASES["default"]
        self.is_postgres = default["ENGINE"].endswith("postgresql")
        if self.is_postgres:
            import psycopg

            self.name = f"ext_{uuid.uuid4().hex[:12]}"
            self._admin_dsn = "dbname=postgres"
            with psycopg.connect(self._admin_dsn, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = f"postgres:///{self.name}"
        else:
            self.path = tmp_path / "shared.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.env = {**os.environ, "DATABASE_URL": self.url, "NOTIFICATIONS_VAR_DIR": str(tmp_path / "var")}
        subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=self.env, check=True,
                       cwd=ROOT)

    def scalar(self, sql: str) -> Any:
        if self.is_postgres:
            import psycopg

            with psycopg.connect(f"dbname={self.name}") as conn:
                return conn.execute(sql).fetchone()[0]
        with sqlite3.connect(self.path, timeout=30) as conn:
            return conn.execute(sql).fetchone()[0]

    def wait_for(self, sql: str, expected: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        value = -1
        while time.monotonic() < deadline:
            value = self.scalar(sql)
            if value >= expected:
                return value
            time.sleep(0.5)
        return value

    def drop(self) -> None:
        if self.is_postgres:
            import psycopg

            with psycopg.connect(self._admin_dsn, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def run_python(self, code: str, extra_env: dict[str, str] | None = None) -> str:
        """Run Django code against this database in a subprocess (`manage.py shell -c`)."""
        done = subprocess.run([sys.executable, str(ROOT / "manage.py"), "shell", "--no-imports", "-c", code],
                              env={**self.env, **(extra_env or {})}, cwd=ROOT, check=True, capture_output=True,
                              text=True)
        return done.stdout
