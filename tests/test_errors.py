"""One error tree (notifications/errors.py): the old import places name the same classes."""

from __future__ import annotations

import pytest

from notifications import errors
from notifications.channels import http_client
from notifications.channels.providers import smtp_client
from notifications.delivery import secrets
from notifications.security.crypto import open_fields


def test_old_import_places_name_the_tree_s_classes() -> None:
    assert secrets.SecretPurged is errors.SecretPurged
    assert http_client.HttpConnectionError is errors.HttpConnectionError
    assert smtp_client.SmtpReplyError is errors.SmtpReplyError
    assert smtp_client.SmtpAuthError is errors.SmtpAuthError
    assert smtp_client.SmtpSessionRefused is errors.SmtpSessionRefused


@pytest.mark.parametrize("error", [errors.HttpConnectionError("closed early"), errors.SmtpReplyError(550, "no"),
                                   errors.SmtpAuthError(535), errors.SmtpSessionRefused("SMTP 554")])
def test_transport_errors_share_one_root(error: Exception) -> None:
    assert isinstance(error, errors.TransportError) and isinstance(error, errors.NotificationError)


def test_connection_failures_are_still_os_errors() -> None:
    # The providers catch OSError for an unusable connection: the tree must not change what they catch.
    for error in (errors.HttpConnectionError("reset"), errors.SmtpSessionRefused("SMTP 421")):
        assert isinstance(error, ConnectionError) and isinstance(error, OSError)
    assert not isinstance(errors.SmtpReplyError(550), OSError)  # the server said no: not a broken connection


def test_an_smtp_reply_keeps_the_server_text_out_of_the_message() -> None:
    error = errors.SmtpReplyError(550, "mailbox john@example.com unknown")
    assert str(error) == "SMTP 550" and error.code == 550 and "john@" in error.text


def test_a_purged_secret_raises_the_tree_s_secret_purged() -> None:
    with pytest.raises(errors.SecretPurged) as raised:
        open_fields({"code": {"$purged": True}})
    assert str(raised.value) == "a secret of this event was purged after its notifications were final (field=code)"


def test_configuration_errors_stay_outside_the_run_time_root() -> None:
    assert not issubclass(errors.RegistryNotBound, errors.NotificationError)
    assert issubclass(errors.RegistryNotBound, errors.NotBound)
