import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notification_service.settings")
django_application = get_asgi_application()

from notifications.api.stream_asgi import InboxStreams  # noqa: E402  (needs the apps loaded)

# The inbox's SSE stream is served on the event loop ahead of Django's handler (no thread per open stream).
application = InboxStreams(django_application)


def serve_application():  # noqa: ANN201 - an ASGI application
    """What `manage.py serve` runs (uvicorn's factory, once per web process): the application, plus the admin's
    static files served from the apps (no collectstatic needed for the embedded setup)."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    return ASGIStaticFilesHandler(application)
