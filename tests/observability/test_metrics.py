from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from notifications.delivery.worker import deliver_until_idle
from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


ROOT = Path(__file__).resolve().parents[2]


def test_metrics_expose_events_records_latency(client, tenant):
    event_registry.process_event(make_event("user.login.failed"))
    event_registry.process_event({"event_type": "x"})
    waiting = client.get("/metrics").content.decode()
    deliver_until_idle()

    text = client.get("/metrics").content.decode()

    assert 'notifications_events_total{event_type="user.login.failed",outcome="processed"}' in text
    assert 'notifications_events_rejected_total{reason="missing_tenant_id"}' in text
    # The backlog gauge: the SMS waiting before the worker ran, none after.
    assert 'notifications_records_open{channel="sms",status="pending"} 1.0' in waiting
    assert 'notifications_records_open{' not in text.replace("# HELP notifications_records_open", "").replace(
        "# TYPE notifications_records_open", "")
    assert 'notifications_records_created_total{channel="sms",status="pending"}' in text
    assert "notifications_delivery_latency_seconds_bucket" in text
    assert "notifications_send_seconds_bucket" in text


def test_alert_rules_use_metrics_that_exist(client, tenant):
    event_registry.process_event(make_event("user.login.failed"))
    deliver_until_idle()
    from notifications.kafka import consumer  # noqa: F401  (registers the consumer metrics)

    exported = client.get("/metrics").content.decode()
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    import re

    for rule in rules["groups"][0]["rules"]:
        for name in re.findall(r"\b(notifications_[a-z_]+)", rule["expr"]):
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert base in exported, f"{rule['alert']} uses {name}, which is not exported"
