"""Provider chains: which providers serve a tenant's channel, in order. A tenant's ProviderConfig rows win;
without any, the defaults from NOTIFICATIONS['DEFAULT_PROVIDERS'] apply (development: Django e-mail backend,
log provider for SMS and push)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module
from typing import Any

from notifications.channels.base import Sender
from notifications.conf import get_setting
from notifications.enums import Channel
from notifications.errors import NotificationConfigurationError

# Provider name -> "module:Class", imported on first use: the vendors' libraries (pywebpush with aiohttp, httpx
# for APNs, ...) took 0.4 s of every worker's start whether or not a tenant uses them.
PROVIDERS: dict[str, str] = {
    "log": "notifications.channels.providers.log:LogSender",
    "django": "notifications.channels.providers.django_email:DjangoEmailSender",
    "smtp": "notifications.channels.providers.smtp:SmtpSender",
    "twilio": "notifications.channels.providers.twilio:TwilioSender",
    "webhook": "notifications.channels.providers.webhook:WebhookSender",
    "fcm": "notifications.channels.providers.fcm:FcmSender",
    "webpush": "notifications.channels.providers.webpush:WebPushSender",
    "apns": "notifications.channels.providers.apns:ApnsSender",
}

DEFAULT_PROVIDERS: dict[str, list[dict[str, Any]]] = {
    "email": [{"provider": "django"}],
    "sms": [{"provider": "log"}],
    "push": [{"provider": "log"}],
}

# Test and embedding hook: a sender that replaces every chain of a channel.
_overrides: dict[Channel, Sender] = {}


def provider_class(name: str) -> type[Sender]:
    try:
        module, _, attribute = PROVIDERS[name].partition(":")
    except KeyError as err:
        raise NotificationConfigurationError(
            f"unknown provider {name!r}; known: {', '.join(sorted(PROVIDERS))}"
        ) from err
    return getattr(import_module(module), attribute)  # sys.modules answers after the first import


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
            for channel in (Channel.EMAIL, Channel.SMS, Channel.PUSH):
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
