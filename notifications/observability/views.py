"""/healthz (the process answers, the database too), /readyz (and Kafka when configured), /metrics."""

from __future__ import annotations

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from notifications.events.registry import event_registry
from notifications.kafka.config import kafka_configured
from notifications.observability import collectors  # noqa: F401  (registers the DB-derived gauges)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError as err:
        return f"error: {type(err).__name__}"


def healthz(request: HttpRequest) -> JsonResponse:
    database = _database()
    ok = database == "ok"
    return JsonResponse({"status": "ok" if ok else "unavailable", "database": database,
                         "event_types": len(event_registry.event_types)}, status=200 if ok else 503)


def _kafka() -> str:
    from confluent_kafka.admin import AdminClient

    from notifications.kafka.config import client_config

    try:
        AdminClient(client_config()).list_topics(timeout=3)
        return "ok"
    except Exception as err:  # noqa: BLE001 - any failure means not ready
        return f"error: {type(err).__name__}"


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database()}
    if kafka_configured():
        checks["kafka"] = _kafka()
    ok = all(value == "ok" for value in checks.values())
    return JsonResponse({"status": "ready" if ok else "not ready", **checks}, status=200 if ok else 503)


def metrics(request: HttpRequest) -> HttpResponse:
    if kafka_configured():
        from notifications.kafka import consumer  # noqa: F401  (its lag and batch metrics)
    return HttpResponse(generate_latest(), content_type=CONTENT_TYPE_LATEST)
