from __future__ import annotations

from pathlib import Path

import pytest

from notifications.events.registry import event_registry
from notifications.testing import make_event

pytestmark = pytest.mark.django_db


def test_django_smtp_auth_failure_is_transient():
    import smtplib

    from notifications.channels.providers.django_email import classify_smtp_error

    result = classify_smtp_error(smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"))
    assert (result.kind, result.code) == ("transient", "auth_failed")


def test_email_file_backend_writes_into_the_mail_folder(tenant, deliver, settings, tmp_path):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    event_registry.process_event(make_event("user.login.succeeded"))

    deliver()

    [message] = list(Path(settings.EMAIL_FILE_PATH).iterdir())
    text = message.read_text()
    assert "To: john@example.com" in text and "Berlin, DE" in text
