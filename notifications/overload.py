"""Database connections exhausted: answer 503 with Retry-After instead of 500.

On PostgreSQL each process has a bounded pool of connections (settings: DATABASE_POOL_*). A request that waits
longer than the pool's timeout for one gets psycopg_pool's PoolTimeout, which Django wraps as an
OperationalError. So does PostgreSQL's own refusal ("too many clients already") when something outside the pool
used the server up. Both mean "busy, try again shortly", not a bug: the API (ninja's exception handler in
notifications.api.app) and every other page (the middleware below) answer 503 with a Retry-After header."""

from __future__ import annotations

import logging

from django.db import OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 1
DETAIL = "the service is busy (no database connection free); retry shortly"
_REFUSED = ("too many clients already", "remaining connection slots are reserved")


def _pool_timeout() -> tuple[type[BaseException], ...]:
    try:
        from psycopg_pool import PoolTimeout
    except ImportError:  # pragma: no cover - psycopg[pool] is a dependency
        return ()
    return (PoolTimeout,)


def is_exhausted(err: BaseException) -> bool:
    """Whether `err` (or what it wraps) says the database had no connection to give."""
    pool_timeout = _pool_timeout()
    seen: BaseException | None = err
    for _ in range(5):  # the error and what it was raised from
        if seen is None:
            return False
        if isinstance(seen, pool_timeout):
            return True
        if (isinstance(seen, OperationalError) or type(seen).__name__ == "OperationalError") and any(
                text in str(seen) for text in _REFUSED):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def busy_response(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: JSON `{"detail": ...}` for the API and for clients asking for JSON, text otherwise."""
    logger.warning("503 for %s %s: no database connection free within the pool's timeout", request.method,
                   request.path)
    if request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"detail": DETAIL}, status=503)
    else:
        response = HttpResponse(DETAIL, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class PoolExhaustedMiddleware(MiddlewareMixin):
    """Turns a view's pool timeout into a 503 with Retry-After (the API does the same in its own handler). Sync
    and async capable (MiddlewareMixin), so async views are not pushed into a thread."""

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        return busy_response(request) if is_exhausted(exception) else None
