"""A provider configuration is checked against the provider's declaration by `providers add` and `check_setup`
(the admin form: test_provider_form.py): each error names the bad key, never a credential's value."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from notifications.channels.models import ProviderConfig
from notifications.channels.provider_config import config_problems, validate_config
from notifications.errors import ProviderConfigInvalid

pytestmark = pytest.mark.django_db

TWILIO_CREDENTIALS = {"account_sid": "AC123", "auth_token": "tw-secret-token"}


def add(tmp_path: Path, provider: str, channel: str, options: dict[str, Any], credentials: dict[str, Any] | None):
    args = ["providers", "add", "--tenant-id", "acme", "--channel", channel, "--provider", provider,
            "--options", json.dumps(options)]
    if credentials is not None:
        (tmp_path / "secrets.json").write_text(json.dumps(credentials))
        args += ["--credentials-file", str(tmp_path / "secrets.json")]
    call_command(*args)


def refused(tmp_path: Path, provider: str, channel: str, options: dict[str, Any],
            credentials: dict[str, Any] | None = None) -> str:
    with pytest.raises(CommandError) as caught:
        add(tmp_path, provider, channel, options, credentials)
    assert not ProviderConfig.objects.exists()  # nothing half-stored
    return str(caught.value)


def test_a_sound_configuration_is_stored_with_encrypted_credentials(tmp_path: Path) -> None:
    add(tmp_path, "twilio", "sms", {"from_number": "+15005550006", "rate_per_second": 10}, TWILIO_CREDENTIALS)
    row = ProviderConfig.objects.get()
    assert (row.provider, row.channel, row.options["from_number"]) == ("twilio", "sms", "+15005550006")
    assert row.credentials == TWILIO_CREDENTIALS and "tw-secret-token" not in row.credentials_encrypted


def test_a_typo_in_an_option_names_the_key_and_the_known_ones(tmp_path: Path) -> None:
    message = refused(tmp_path, "twilio", "sms", {"form_number": "+15005550006"}, TWILIO_CREDENTIALS)
    assert "twilio: unknown option 'form_number' (known: base_url, from_number, label, " in message


def test_a_provider_that_does_not_serve_the_channel_is_refused(tmp_path: Path) -> None:
    message = refused(tmp_path, "twilio", "email", {"from_number": "+15005550006"}, TWILIO_CREDENTIALS)
    assert message == "twilio does not serve channel email (serves: sms)"


def test_missing_and_unknown_credentials_are_named_without_their_values(tmp_path: Path) -> None:
    message = refused(tmp_path, "twilio", "sms", {"from_number": "+1500"}, {"auth_tokn": "tw-secret-token"})
    assert "twilio: unknown credential 'auth_tokn' (known: account_sid, auth_token)" in message
    assert "twilio: credentials missing account_sid, auth_token" in message
    assert "tw-secret-token" not in message

    assert "credentials missing account_sid, auth_token" in refused(tmp_path, "twilio", "sms", {"from_number": "+1"})


@pytest.mark.parametrize(
    ("provider", "channel", "options", "expected"),
    [
        ("smtp", "email", {"host": "mail", "port": 70000},
         "smtp: option 'port': Input should be less than or equal to 65535"),
        ("smtp", "email", {"port": 25}, "smtp: option 'host' is required"),
        ("webhook", "sms", {"url": "not a url"}, "webhook: option 'url': Input should be a valid URL"),
        ("twilio", "sms", {}, "twilio: options: from_number or messaging_service_sid is required"),
        ("log", "sms", {"rate_per_second": 0}, "log: option 'rate_per_second': Input should be greater than 0"),
        ("apns", "push", {"topic": "com.acme", "push_type": "loud"}, "apns: option 'push_type': Input should be"),
        ("log", "sms", [], "log: options must be a JSON object"),
        ("nope", "sms", {}, "unknown provider 'nope' (known: apns, "),
    ],
)
def test_options_are_checked_against_the_model(provider: str, channel: str, options: Any, expected: str) -> None:
    credentials = TWILIO_CREDENTIALS if provider == "twilio" else {}
    with pytest.raises(ProviderConfigInvalid) as caught:
        validate_config(provider, channel, options, credentials)
    assert expected in str(caught.value)


def test_each_problem_carries_the_field_it_belongs_to() -> None:
    problems = config_problems("webhook", "email", {"url": "https://h/x", "uri": "x"}, {"secret": 5})
    assert [field for field, _ in problems] == ["channel", "options", "credentials"]


def test_check_setup_reads_the_same_declaration(tenant: Any, capsys: Any) -> None:
    """A row stored around the checks (an older release, raw SQL) is reported with the key that is wrong."""
    row = ProviderConfig(tenant=tenant, channel="email", provider="webhook",
                         options={"url": "https://gateway.example/send", "form_number": "+1"})
    row.credentials = {"secret": "hook-secret-value"}
    row.save()

    with pytest.raises(CommandError, match="1 problem"):
        call_command("check_setup", "--tenant-id", tenant.id)
    out = capsys.readouterr().out
    assert f"PROBLEM provider {row.pk} (webhook) of acme: webhook does not serve channel email" in out
    assert "webhook: unknown option 'form_number' (known: label, max_concurrency, rate_per_second, timeout, url)" in out
    assert "hook-secret-value" not in out


def test_describe_prints_each_declaration(capsys: Any) -> None:
    call_command("providers", "describe", "twilio")
    out = capsys.readouterr().out
    assert "twilio: channels sms" in out
    assert "from_number" in out and "credentials: account_sid (required), auth_token (required)" in out
