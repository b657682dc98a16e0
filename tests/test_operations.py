"""/metrics, /healthz, /readyz, JSON logs, check_setup, the alert rules, the admin preview."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.urls import reverse

from notifications.delivery.worker import deliver_until_idle
from notifications.events.registry import event_registry
from notifications.models import NotificationTemplate
from notifications.observability.logging import JsonFormatter
from notifications.security import RedactingFilter
from notifications.testing import make_event

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parent.parent


def test_metrics_expose_events_records_latency(client, tenant):
    event_registry.process_event(make_event("user.login.failed"))
    event_registry.process_event({"event_type": "x"})
    deliver_until_idle()

    text = client.get("/metrics").content.decode()

    assert 'notifications_events_total{event_type="user.login.failed",outcome="processed"}' in text
    assert 'notifications_events_rejected_total{reason="missing_tenant_id"}' in text
    assert 'notifications_records{channel="sms",status="sent"} 1.0' in text
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


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json()["database"] == "ok"
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": "ok"}


def test_readyz_reports_unreachable_kafka(client, settings):
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                              "KAFKA_CLIENT_CONFIG": {"socket.connection.setup.timeout.ms": 1000}}
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["kafka"].startswith("error")


def test_json_logs_carry_ids_and_no_secrets():
    formatter = JsonFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1,
                               "delivery failed: tenant_id=%s record_id=%s reset_token=%s", ("acme", 7, "tok-1234"),
                               None)
    RedactingFilter().filter(record)
    line = json.loads(formatter.format(record))
    assert (line["tenant_id"], line["record_id"], line["level"]) == ("acme", "7", "INFO")
    assert "tok-1234" not in json.dumps(line)


def test_check_setup_passes_on_a_sound_setup(tenant, capsys):
    call_command("seed_event_templates", "--tenant-id", tenant.id)
    call_command("check_setup")
    out = capsys.readouterr().out
    assert "OK      database reachable" in out and "28 active template(s) checked" in out
    assert "11 event types have a handler" in out and "all checks passed" in out


def test_check_setup_names_each_problem(tenant, capsys, settings):
    NotificationTemplate.objects.create(tenant_id=tenant.id, name="task_assigned_push", channel="push",
                                        content={"title": "t", "body": "b"})
    NotificationTemplate.objects.filter(name="task_assigned_push").update(content={"title": "{{ nope }}", "body": "b"})
    from notifications.channels.models import ProviderConfig

    ProviderConfig.objects.create(tenant=tenant, channel="sms", provider="twilio", options={})
    settings.NOTIFICATIONS = {**settings.NOTIFICATIONS, "KAFKA_BOOTSTRAP_SERVERS": "127.0.0.1:1",
                              "KAFKA_CLIENT_CONFIG": {"socket.connection.setup.timeout.ms": 1000}}

    with pytest.raises(CommandError, match="3 problem"):
        call_command("check_setup")
    out = capsys.readouterr().out
    assert "PROBLEM Kafka at 127.0.0.1:1 unreachable" in out
    assert "PROBLEM template acme/task_assigned_push: unknown placeholder(s) for task.assigned: nope" in out
    assert "PROBLEM provider" in out and "missing account_sid, auth_token" in out


def test_admin_template_preview_renders(admin_client, tenant):
    template = NotificationTemplate.objects.create(
        tenant_id=tenant.id, name="invoice_payment_failed_email", channel="email",
        content={"subject": "Pay {{ amount_formatted }}", "body": "Invoice {{ invoice_id }}"})

    page = admin_client.get(reverse("admin:notifications_notificationtemplate_change", args=[template.pk]))

    text = page.content.decode()
    assert "Pay $1,234.50" in text and "Invoice INV-1001" in text
