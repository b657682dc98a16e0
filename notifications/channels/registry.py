"""The provider registry (`register_provider`: name -> Sender class, built-ins imported on first use) and the
provider chains: which providers serve a tenant's channel, in order. A tenant's ProviderConfig rows win;
without any, the defaults from NOTIFICATIONS['DEFAULT_PROVIDERS'] apply (development: Django e-mail backend,
log provider for SMS and push)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import import_module
from typing import Any

from notifications.channels.base import Sender
from notifications.channels.spec import provider_channels
from notifications.conf import get_setting
from notifications.enums import Channel
from notifications.errors import NotificationConfigurationError, ProviderAlreadyRegistered, ProviderNotFound

# Provider name -> its class, or "module:Class" until first use: the vendors' libraries (pywebpush with aiohttp,
# httpx for APNs, ...) took 0.4 s of every worker's start whether or not a tenant uses them.
_providers: dict[str, type[Sender] | str] = {}
_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")  # ProviderConfig.provider holds 32 characters

DEFAULT_PROVIDERS: dict[str, list[dict[str, Any]]] = {
    "email": [{"provider": "django"}],
    "sms": [{"provider": "log"}],
    "push": [{"provider": "log"}],
}

# Test and embedding hook: a sender that replaces every chain of a channel.
_overrides: dict[Channel, Sender] = {}


def register_provider(name: str, cls: type[Sender] | str, replace: bool = False) -> None:
    """Make a provider available under `name` (what ProviderConfig.provider and `providers add --provider`
    say). `cls` is a Sender subclass, or "module:Class" to import it on first use. A name taken already raises
    ProviderAlreadyRegistered unless replace=True. Call it from your app's AppConfig.ready()."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise NotificationConfigurationError(
            f"provider name {name!r}: use 1-32 lowercase letters, digits, '_' or '-', starting with a letter")
    if isinstance(cls, str):
        if cls.count(":") != 1 or not all(cls.partition(":")[::2]):
            raise NotificationConfigurationError(f"provider {name}: import path {cls!r} is not 'module:Class'")
    else:
        _check_class(name, cls)
    if name in _providers and not replace and _describe(_providers[name]) != _describe(cls):  # the same one: fine
        raise ProviderAlreadyRegistered(
            f"provider {name!r} is registered already ({_describe(_providers[name])}); pass replace=True to swap it")
    _providers[name] = cls


def unregister_provider(name: str) -> None:
    """Forget a provider (tests, embedding); configurations naming it fail with ProviderNotFound."""
    _providers.pop(name, None)


def provider_names() -> list[str]:
    return sorted(_providers)


def provider_class(name: str) -> type[Sender]:
    try:
        entry = _providers[name]
    except (KeyError, TypeError):
        raise ProviderNotFound(f"unknown provider {name!r} (known: {', '.join(provider_names())})") from None
    if isinstance(entry, str):
        module, _, attribute = entry.partition(":")
        loaded = getattr(import_module(module), attribute, None)
        if loaded is None:
            raise NotificationConfigurationError(f"provider {name}: {entry!r} names no class")
        _check_class(name, loaded)
        _providers[name] = entry = loaded
    return entry


def _check_class(name: str, cls: Any) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Sender)):
        raise NotificationConfigurationError(f"provider {name}: {cls!r} is not a Sender subclass")
    if not cls.channels:
        raise NotificationConfigurationError(f"provider {name}: {cls.__name__}.channels declares no channel")


def _describe(entry: type[Sender] | str) -> str:
    return entry if isinstance(entry, str) else f"{entry.__module__}:{entry.__qualname__}"


for _name, _path in {
    "log": "notifications.channels.providers.log:LogSender",
    "django": "notifications.channels.providers.django_email:DjangoEmailSender",
    "smtp": "notifications.channels.providers.smtp:SmtpSender",
    "twilio": "notifications.channels.providers.twilio:TwilioSender",
    "webhook": "notifications.channels.providers.webhook:WebhookSender",
    "fcm": "notifications.channels.providers.fcm:FcmSender",
    "webpush": "notifications.channels.providers.webpush:WebPushSender",
    "apns": "notifications.channels.providers.apns:ApnsSender",
}.items():
    register_provider(_name, _path)


def set_sender(channel: Channel, sender: Sender | None) -> None:
    """Make `sender` serve every tenant's `channel` (tests, embedding); None restores the chains."""
    if sender is None:
        _overrides.pop(channel, None)
    else:
        _overrides[channel] = sender


class ProviderChains:
    """Sender instances per (tenant, channel), rebuilt only when a tenant's configuration changes, so
    connection pools and access tokens live across batches."""

    def __init__(self) -> None:
        self._instances: dict[Any, Sender] = {}
        self._chains: dict[tuple[str, Channel], list[Sender]] = {}

    def refresh(self, tenant_ids: Iterable[str]) -> list[Sender]:
        """Reload the configuration of these tenants (one query); returns the senders that an edited
        configuration replaced, for the caller to close."""
        from notifications.channels.models import ProviderConfig

        rows = list(ProviderConfig.objects.filter(tenant_id__in=set(tenant_ids), enabled=True))
        configured: dict[tuple[str, Channel], list[Sender]] = {}
        replaced: list[Sender] = []
        for row in rows:
            key = ("tenant", row.pk, row.updated_at)
            sender = self._instances.get(key)
            if sender is None:
                for old in [k for k in self._instances if k[:2] == ("tenant", row.pk)]:
                    replaced.append(self._instances.pop(old))
                sender = provider_class(row.provider)(row.options, row.credentials)
                self._instances[key] = sender
            configured.setdefault((row.tenant_id, Channel(row.channel)), []).append(sender)
        for tenant_id in set(tenant_ids):
            for channel in map(Channel, provider_channels()):  # every channel its spec says uses providers
                self._chains[(tenant_id, channel)] = configured.get((tenant_id, channel)) or self._defaults(channel)
        return replaced

    def _defaults(self, channel: Channel) -> list[Sender]:
        chain = []
        for index, spec in enumerate(get_setting("DEFAULT_PROVIDERS", DEFAULT_PROVIDERS).get(channel.value, [])):
            if spec["provider"] == "log" and not get_setting("DEV_PROVIDERS", False):
                continue  # outside development an unconfigured channel fails visibly instead
            key = ("default", channel.value, index)
            if key not in self._instances:
                self._instances[key] = provider_class(spec["provider"])(spec.get("options"), spec.get("credentials"))
            chain.append(self._instances[key])
        return chain

    def chain(self, tenant_id: str, channel: Channel) -> list[Sender]:
        if channel in _overrides:
            return [_overrides[channel]]
        return self._chains.get((tenant_id, channel)) or self._defaults(channel)

    def all_senders(self) -> list[Sender]:
        return list(self._instances.values())
