from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json()["database"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": "ok"}


def test_readyz_reports_unreachable_kafka(client, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                              "KAFKA_CLIENT_CONFIG": {"socket.connection.setup.timeout.ms": 1000}}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["kafka"].startswith("error")
