"""Checks one provider configuration (provider name, channel, options, credentials) against the provider's
declaration: the channels it serves, its options model, its credential fields. `providers add`, the admin form
(ProviderConfig.clean) and `check_setup` all call `config_problems`, so the rules live on the provider class
only. Messages name the bad key and never quote a credential's value."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from notifications.channels.base import Sender
from notifications.channels.declaration import option_names
from notifications.channels.registry import provider_class
from notifications.errors import ProviderConfigInvalid, ProviderNotFound

#: (field, message): field is "provider", "channel", "options" or "credentials" (the admin form's field names).
Problem = tuple[str, str]


def config_problems(provider: str, channel: str, options: Any, credentials: Any) -> list[Problem]:
    try:
        cls = provider_class(provider)
    except ProviderNotFound as err:
        return [("provider", str(err))]
    problems: list[Problem] = []
    served = sorted(str(c) for c in cls.channels)
    if str(channel) not in served:
        problems.append(("channel", f"{provider} does not serve channel {channel} (serves: {', '.join(served)})"))
    problems += [("options", message) for message in option_problems(provider, cls, options)]
    problems += [("credentials", message) for message in credential_problems(provider, cls, credentials)]
    return problems


def validate_config(provider: str, channel: str, options: Any, credentials: Any) -> None:
    """Raise ProviderConfigInvalid naming every problem of this configuration."""
    problems = config_problems(provider, channel, options, credentials)
    if problems:
        raise ProviderConfigInvalid(problems)


def option_problems(provider: str, cls: type[Sender], options: Any) -> list[str]:
    if not isinstance(options, dict):
        return [f"{provider}: options must be a JSON object"]
    model = cls.options_model
    try:
        model.model_validate(options)
    except ValidationError as err:
        known = ", ".join(option_names(model))
        problems: list[str] = []
        seen: set[str] = set()
        for error in err.errors(include_input=False, include_url=False):
            key = ".".join(str(part) for part in error["loc"])
            if key in seen:
                continue  # one message per key (a union type reports each of its arms)
            seen.add(key)
            if error["type"] == "extra_forbidden":
                problems.append(f"{provider}: unknown option {key!r} (known: {known})")
            elif error["type"] == "missing":
                problems.append(f"{provider}: option {key!r} is required")
            elif not key:  # a rule across options (the model's own validator)
                problems.append(f"{provider}: options: {error['msg'].removeprefix('Value error, ')}")
            else:
                problems.append(f"{provider}: option {key!r}: {error['msg']}")
        return problems
    return []


def credential_problems(provider: str, cls: type[Sender], credentials: Any) -> list[str]:
    if not isinstance(credentials, dict):
        return [f"{provider}: credentials must be a JSON object"]
    declared = {field.name: field for field in cls.credential_fields}
    problems: list[str] = []
    unknown = sorted(set(credentials) - set(declared))
    if unknown:
        known = ", ".join(sorted(declared)) or "none"
        problems += [f"{provider}: unknown credential {str(key)!r} (known: {known})" for key in unknown]
    missing = [name for name, field in declared.items() if field.required and not credentials.get(name)]
    if missing:
        problems.append(f"{provider}: credentials missing {', '.join(missing)}")
    problems += [f"{provider}: credential {name!r} must be a string" for name in declared
                 if credentials.get(name) is not None and not isinstance(credentials[name], str)]
    return problems
