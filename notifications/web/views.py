from __future__ import annotations

from django.db import connection
from django.db.utils import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse

from notifications.events.registry import event_registry


def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        database = "ok"
    except DatabaseError as err:
        database = f"error: {type(err).__name__}"
    status = 200 if database == "ok" else 503
    return JsonResponse(
        {"status": "ok" if status == 200 else "unavailable", "database": database,
         "event_types": len(event_registry.event_types)},
        status=status,
    )


def index(request: HttpRequest) -> HttpResponse:
    types = "".join(f"<li><code>{t}</code></li>" for t in event_registry.event_types)
    return HttpResponse(
        "<!doctype html><title>Notification service</title><h1>Notification service</h1>"
        '<p><a href="/healthz">/healthz</a> &middot; <a href="/admin/">admin</a></p>'
        f"<h2>Event types</h2><ul>{types}</ul>"
    )
