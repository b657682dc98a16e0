"""The open provider registry: a provider from a user's app is registered through `register_provider`, configured
for a tenant with `providers add` and delivers a real record; duplicates, replace=True and unknown names."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import override_settings

from notifications.channels import Sender, register_provider, unregister_provider
from notifications.channels.registry import provider_class, provider_names
from notifications.enums import Channel, Status
from notifications.errors import NotificationConfigurationError, ProviderAlreadyRegistered, ProviderNotFound
from notifications.models import NotificationRecord
from notifications.testing import make_event
from tests.channels.acme_sms.sender import AcmeSmsSender

BUILT_IN = ["apns", "django", "fcm", "log", "smtp", "twilio", "webhook", "webpush"]


@pytest.fixture
def acme_app() -> Iterator[None]:
    """The test app installed: its AppConfig.ready() registers the provider."""
    AcmeSmsSender.outbox.clear()
    app = "tests.channels.acme_sms.apps.AcmeSmsConfig"
    with override_settings(INSTALLED_APPS=[*django_settings.INSTALLED_APPS, app]):
        yield
    unregister_provider("acme_sms")


class Other(Sender):
    name = "other"
    channels = frozenset({Channel.SMS})


class Another(Other):
    pass


@pytest.fixture
def cleanup() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        unregister_provider(name)


@pytest.mark.django_db
def test_a_provider_from_an_app_is_configured_and_delivers(acme_app: None, tenant: Any, deliver: Any,
                                                            process: Any, tmp_path: Any, capsys: Any) -> None:
    assert "acme_sms" in provider_names()
    secrets = tmp_path / "acme.json"
    secrets.write_text(json.dumps({"api_key": "acme-key-123"}))
    call_command("providers", "add", "--tenant-id", tenant.id, "--channel", "sms", "--provider", "acme_sms",
                 "--options", '{"sender_id": "ACME"}', "--credentials-file", str(secrets))

    process(make_event("user.password.reset.requested", email=None))
    deliver()

    record = NotificationRecord.objects.get(channel="sms")
    assert (record.status, record.provider, record.provider_message_id) == (Status.SENT, "acme_sms", "acme-1")
    [(sender_id, to, body, api_key)] = AcmeSmsSender.outbox
    assert (sender_id, to, api_key) == ("ACME", "+14155550123", "acme-key-123")
    assert "reset your password" in body

    capsys.readouterr()
    call_command("check_setup", "--tenant-id", tenant.id)
    out = capsys.readouterr().out
    assert "(acme_sms, sms) of acme configured" in out and "acme-key-123" not in out


def test_a_duplicate_name_raises_unless_replace(cleanup: list[str]) -> None:
    cleanup.append("dup")
    register_provider("dup", Other)
    register_provider("dup", Other)  # the same class again (an AppConfig.ready() run twice) is no conflict

    with pytest.raises(ProviderAlreadyRegistered, match="'dup' is registered already"):
        register_provider("dup", Another)
    with pytest.raises(ProviderAlreadyRegistered, match="'twilio' is registered already"):
        register_provider("twilio", Another)
    assert provider_class("dup") is Other

    register_provider("dup", Another, replace=True)
    assert provider_class("dup") is Another


def test_an_unknown_name_raises_listing_the_known_ones() -> None:
    with pytest.raises(ProviderNotFound, match=r"unknown provider 'nope' \(known: apns, django, fcm, log, "):
        provider_class("nope")
    assert issubclass(ProviderNotFound, NotificationConfigurationError)


@pytest.mark.parametrize(
    ("name", "cls", "error"),
    [
        ("Bad Name", Other, "lowercase letters"),
        ("x" * 33, Other, "1-32"),
        ("plain", object, "not a Sender subclass"),
        ("nochannel", Sender, "declares no channel"),
        ("path", "no.colon.here", "is not 'module:Class'"),
    ],
)
def test_a_bad_registration_is_refused(name: str, cls: Any, error: str) -> None:
    with pytest.raises(NotificationConfigurationError, match=error):
        register_provider(name, cls)
    assert name not in provider_names()


def test_a_path_naming_no_sender_fails_on_first_use(cleanup: list[str]) -> None:
    cleanup.append("broken")
    register_provider("broken", "notifications.enums:Channel")
    with pytest.raises(NotificationConfigurationError, match="not a Sender subclass"):
        provider_class("broken")


def test_built_in_declarations_are_read_without_vendor_libraries() -> None:
    """The built-ins are registered by import path, and reading a declaration imports no vendor library."""
    code = (
        "import django, sys; django.setup()\n"
        "from notifications.channels.registry import provider_class, provider_names\n"
        "assert not {'httpx', 'jwt', 'pywebpush', 'py_vapid'} & set(sys.modules), 'imported at start'\n"
        "for name in provider_names():\n"
        "    cls = provider_class(name)\n"
        "    cls.options_model.model_json_schema(); [f.name for f in cls.credential_fields]\n"
        "print(sorted({'httpx', 'jwt', 'pywebpush', 'py_vapid'} & set(sys.modules)))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "notification_service.settings"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_built_in_declares_channels_and_a_closed_options_model(name: str) -> None:
    cls = provider_class(name)
    assert cls.channels and cls.name == name
    assert cls.options_model.model_config["extra"] == "forbid"
    assert {"rate_per_second", "max_concurrency", "timeout", "label"} <= set(cls.options_model.model_fields)
