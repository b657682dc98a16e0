"""The NinjaAPI object of the HTTP API, its error handlers, and its routers attached."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.db import OperationalError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from notifications.api.auth import ApiKeyAuth
from notifications.api.routers import (  # they import nothing of this
    cancel,
    contacts,
    event_types,
    events,
    fanouts,
    history,
    inbox,
    records,
    replays,
    rules,
    templates,
    tenant,
    topics,
)
from notifications.api.throttle import TooManyRequests
from notifications.overload import DETAIL, RETRY_AFTER_SECONDS, is_exhausted

api = NinjaAPI(
    title="Notification service API",
    version="1",
    description="Events in, notifications out. Service endpoints take a tenant API key (`X-API-Key`); inbox "
    "endpoints take an end-user JWT (`Authorization: Bearer`).",
    urls_namespace="api-v1",
    auth=ApiKeyAuth(),
    docs_url="/docs",
)


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, err: ValidationError) -> HttpResponse:
    detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in err.message_dict.items()) if hasattr(
        err, "error_dict") else " ".join(err.messages)
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(OperationalError)
def _database_busy(request: HttpRequest, err: OperationalError) -> HttpResponse:
    """No database connection free within the pool's timeout: 503 with Retry-After (other errors stay 500)."""
    if not is_exhausted(err):
        raise err
    response = api.create_response(request, {"detail": DETAIL}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, err: RequestDataTooBig) -> HttpResponse:
    """A body beyond DATA_UPLOAD_MAX_MEMORY_SIZE: 413 in the API's error shape (Django's own answer is an HTML
    400 page, after logging a traceback)."""
    from django.conf import settings

    return api.create_response(
        request, {"detail": f"the request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"},
        status=413)


@api.exception_handler(TooManyFieldsSent)
def _too_many_fields(request: HttpRequest, err: TooManyFieldsSent) -> HttpResponse:
    """More query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS (a list repeated too often): 422 in the API's
    error shape instead of Django's HTML 400 page."""
    from django.conf import settings

    return api.create_response(
        request, {"detail": f"more than {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} query parameters or fields"},
        status=422)


@api.exception_handler(TooManyRequests)
def _too_many(request: HttpRequest, err: TooManyRequests) -> HttpResponse:
    response = api.create_response(request, {"detail": str(err)}, status=429)
    response["Retry-After"] = str(err.retry_after)
    return response


api.add_router("/events", events.router)
api.add_router("/events", cancel.router)
api.add_router("/events", fanouts.event_router)
api.add_router("/templates", templates.router)
api.add_router("/", contacts.router)
api.add_router("/tenant", tenant.router)
api.add_router("/", records.router)
api.add_router("/inbox", inbox.router)
api.add_router("/fanouts", fanouts.router)
api.add_router("/topics", topics.router)
api.add_router("/event-types", event_types.router)
api.add_router("/history", history.router)
api.add_router("/replays", replays.router)
api.add_router("/rules", rules.router)

__all__ = ["api"]
