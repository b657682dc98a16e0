import os
from typing import cast

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notification_service.settings")
django_application = get_asgi_application()

from notifications.api.stream_asgi import ASGIApp, InboxStreams  # noqa: E402  (needs the apps loaded)

# The inbox's SSE stream is served on the event loop ahead of Django's handler (no thread per open stream).
# django-stubs type the handler's scope as a dict (ASGI's is a mapping); the servers pass dicts.
application = InboxStreams(cast(ASGIApp, django_application))


def serve_application():
    """What `manage.py serve` runs (uvicorn's factory, once per web process): the application, plus the admin's
    static files served from the apps (no collectstatic needed for the embedded setup)."""
    import threading

    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    # uvicorn calls this inside its event loop. Load the URLconf (some views' modules read the database when
    # imported) in a thread, as the system checks do in a single process, rather than on the first request,
    # which would run those reads on the loop and fail.
    loader = threading.Thread(target=_load_urls, name="load-urls")
    loader.start()
    loader.join()
    return ASGIStaticFilesHandler(application)


def _load_urls() -> None:
    from django.db import connections
    from django.urls import get_resolver

    try:
        get_resolver().url_patterns  # noqa: B018 - imports every view module
    finally:
        connections.close_all()
