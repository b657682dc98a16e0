"""Checking a rule set against its tenant on save: what refuses it (an unknown event type or provider, a delay
on security notifications the tenant does not allow delaying) and what is only said (an unknown template name,
a skip or removal aimed only at mandatory types: both are ignored when the rules run)."""

from __future__ import annotations

from typing import Any

from notifications.channels.models import ProviderConfig
from notifications.events.naming import template_name
from notifications.events.registry import event_registry
from notifications.rendering.models import NotificationTemplate
from notifications.rules.definition import Rule, label, read_rules
from notifications.rules.errors import Problem, RulesInvalid
from notifications.scheduling.timing import ALLOW_DELAYING_SECURITY
from notifications.tenants.models import Tenant


def known_event_types(tenant: Tenant) -> set[str]:
    """The event types a rule may name: the registered ones and the tenant's own active ones (tenant_types)."""
    from notifications.tenant_types.models import TenantEventType

    own = TenantEventType.objects.filter(tenant_id=tenant.pk, is_active=True).values_list("name", flat=True)
    return set(event_registry.event_types) | set(own)


def provider_labels(tenant: Tenant) -> dict[str, set[str]]:
    """The providers a rule may route to, by channel: each configured provider's label (options["label"]) and
    its provider name, as delivery names them (Sender.label)."""
    labels: dict[str, set[str]] = {}
    for config in ProviderConfig.objects.filter(tenant=tenant, enabled=True):
        names = labels.setdefault(config.channel, set())
        names.add(config.provider)
        if isinstance(config.options, dict) and isinstance(config.options.get("label"), str):
            names.add(config.options["label"])
    return labels


def check_rules(tenant: Tenant, raw: Any) -> tuple[list[Rule], list[str]]:
    """(the rules, warnings) or RulesInvalid naming every bad part."""
    rules = read_rules(raw)
    problems: list[Problem] = []
    warnings: list[str] = []
    types = known_event_types(tenant)
    providers = provider_labels(tenant)
    templates = set(NotificationTemplate.objects.filter(tenant=tenant).values_list("name", flat=True))
    allow_delay = isinstance(tenant.settings, dict) and tenant.settings.get(ALLOW_DELAYING_SECURITY) is True
    for index, rule in enumerate(rules):
        where = label(index, rule.name)
        for event_type in sorted(rule.event_types or ()):
            if event_type not in types:
                problems.append(Problem(f"{where}.event_types", f"unknown event type {event_type!r}"))
        actions = rule.actions
        for channel, name in sorted(actions.provider.items()):
            if name not in providers.get(channel, ()):
                known = ", ".join(sorted(providers.get(channel, ()))) or "none configured"
                problems.append(Problem(f"{where}.actions.provider.{channel}",
                                        f"no enabled {channel} provider named {name!r} (the tenant's: {known})"))
        for channel, name in sorted(actions.template.items()):
            if name not in templates:
                warnings.append(f"{where}.actions.template.{channel}: the tenant has no template {name!r} yet: "
                                f"until it has, the default template ({_default_name(rule, channel)}) is used")
        handlers = [event_registry.get_handler(t) for t in sorted(rule.event_types or ())]
        if (handlers and all(h is not None and h.mandatory for h in handlers)
                and (actions.skip is not None or actions.remove_channels)):
                warnings.append(f"{where}.actions: {', '.join(sorted(rule.event_types or ()))} are mandatory "
                                "(such as 2FA codes): a rule cannot skip them or remove their channels, so "
                                "skip and remove_channels are ignored for them")
        if (actions.delay_seconds and handlers and all(h is not None and h.critical for h in handlers)
                and not allow_delay):
            problems.append(Problem(f"{where}.actions.delay_seconds",
                                    "these event types are security notifications, sent at once: a delay is "
                                    f"refused unless the tenant sets settings.{ALLOW_DELAYING_SECURITY}"))
    if problems:
        raise RulesInvalid(problems)
    return rules, warnings


def _default_name(rule: Rule, channel: str) -> str:
    types = sorted(rule.event_types or ())
    return template_name(types[0], channel) if len(types) == 1 else "the event type's own"
