from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_django_smtp_auth_failure_is_transient():
    import smtplib

    from notifications.channels.providers.django_email import classify_smtp_error

    result = classify_smtp_error(smtplib.SMTPAuthenticationError(535, b"5.7.8 bad credentials"))
    assert (result.kind, result.code) == ("transient", "auth_failed")
