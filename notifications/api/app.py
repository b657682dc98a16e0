"""The NinjaAPI object of the HTTP API: every router attaches itself here."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from notifications.api.auth import ApiKeyAuth

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


from notifications.api import routers  # noqa: E402  (routers attach themselves to `api`)

__all__ = ["api", "routers"]
