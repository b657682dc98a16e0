"""The "Add a channel" recipe (notifications/channels/README.md), followed at runtime for a throwaway channel,
"pager": its spec registered (the enum value is a runtime pseudo-member: Channel("pager") answers it), a
handler whose default content serves it, a provider that serves it, configured with `providers add`. A record
of it is planned at intake, claimed, rendered and sent through that provider; its spec's address check, template
fields and attempts are the ones used; a pager record without a provider says so."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from notifications.channels import Message, Sender, SendResult, Sent, register_provider, unregister_provider
from notifications.channels.spec import (
    CHANNEL_SPECS,
    ChannelSpec,
    Target,
    UnknownChannel,
    channel_spec,
    register_channel,
    unregister_channel,
)
from notifications.delivery.engine import reset_default_engine
from notifications.delivery.policy import max_attempts
from notifications.enums import Channel, Status
from notifications.events.base_handler import BaseEventHandler
from notifications.events.handlers.fields import E164
from notifications.events.registry import event_registry
from notifications.models import NotificationRecord, NotificationTemplate

PAGER = "pager"


class PagerHandler(BaseEventHandler):
    """Step 3 of the recipe: a handler's content for the channel (default templates; `_get_pager_content`
    would do too)."""

    event_types = ("oncall.paged",)
    channels = None  # every channel it has content for: the runtime channel included
    placeholders: ClassVar[tuple[str, ...]] = ("service", "summary")
    default_templates: ClassVar[dict[str, dict[str, str]]] = {PAGER: {"body": "PAGE {{ service }}: {{ summary }}"}}


class PagerSender(Sender):
    """Step 4: a provider that serves the channel; its sends land in a list."""

    name = "test_pager"
    outbox: ClassVar[list[Message]] = []

    async def send(self, message: Message) -> SendResult:
        self.outbox.append(message)
        return Sent(provider_message_id=f"page-{len(self.outbox)}")


@pytest.fixture
def pager() -> Iterator[Channel]:
    """Steps 1-2 of the recipe at runtime: the channel's value and its spec (the migration, step 5, only widens
    the column's choices: nothing checks them at runtime)."""
    channel = register_channel(ChannelSpec(PAGER, Target.USER, "phone", E164.fullmatch, ("body",),
                                           frozenset({"body"}), max_attempts=2))
    PagerSender.channels = frozenset({channel})
    register_provider(PagerSender.name, PagerSender)
    handler = event_registry.register(PagerHandler())
    PagerSender.outbox.clear()
    reset_default_engine()
    try:
        yield channel
    finally:
        reset_default_engine()
        event_registry.unregister_handler(handler)
        unregister_provider(PagerSender.name)
        unregister_channel(PAGER)


def paged(phone: str | None = "+14155550199") -> dict[str, Any]:
    payload = {"user_id": "u-7", "service": "billing", "summary": "p99 over budget"}
    if phone:
        payload["phone"] = phone
    return {"event_type": "oncall.paged", "tenant_id": "acme", "timestamp": "2025-01-01T00:00:00+00:00",
            "payload": payload}


@pytest.mark.django_db
def test_a_record_of_a_new_channel_is_delivered_through_its_provider(pager: Channel, tenant: Any, process: Any,
                                                                      deliver: Any) -> None:
    assert Channel(PAGER) is pager and pager in Channel.known() and pager not in list(Channel)
    call_command("providers", "add", "--tenant-id", tenant.id, "--channel", PAGER, "--provider", PagerSender.name)

    process(paged())
    record = NotificationRecord.objects.get(channel=PAGER)
    assert (record.status, record.recipient) == (Status.PENDING, "+14155550199")  # the spec's address field
    deliver()

    record.refresh_from_db()
    assert (record.status, record.provider, record.provider_message_id) == (Status.SENT, "test_pager", "page-1")
    [message] = PagerSender.outbox
    assert (message.channel, message.recipient) == (pager, "+14155550199")
    assert message.fields == {"body": "PAGE billing: p99 over budget"}


@pytest.mark.django_db
def test_the_spec_checks_the_address_at_intake(pager: Channel, tenant: Any, process: Any) -> None:
    process(paged(phone="555-0199"))
    process({**paged(phone=None), "payload": {**paged(phone=None)["payload"], "user_id": "u-8"}})
    reasons = sorted(NotificationRecord.objects.filter(channel=PAGER).values_list("status", "reason"))
    assert reasons == [(Status.SKIPPED, "invalid_address"), (Status.SKIPPED, "no_address")]


@pytest.mark.django_db
def test_without_a_provider_its_records_retry_then_fail_as_no_provider(pager: Channel, tenant: Any, process: Any,
                                                                        deliver: Any, caplog: Any) -> None:
    """Not claimed-and-ignored, not waiting silently: the claim takes it, the dispatcher says no provider (once
    per tenant and channel, in the log), and the spec's two attempts bound the wait."""
    process(paged())
    deliver()
    record = NotificationRecord.objects.get(channel=PAGER)
    assert (record.status, record.reason, record.attempts) == (Status.RETRYING, "no_provider", 1)
    assert "no provider configured: tenant_id=acme channel=pager" in caplog.text
    assert max_attempts(PAGER) == 2  # the spec's own, where email/sms/push follow MAX_ATTEMPTS
    NotificationRecord.objects.filter(pk=record.pk).update(next_attempt_at=record.created_at)  # due again
    deliver()
    record.refresh_from_db()
    assert (record.status, record.reason, record.attempts) == (Status.FAILED, "no_provider", 2)


@pytest.mark.django_db
def test_its_templates_are_checked_against_the_spec_fields(pager: Channel, tenant: Any) -> None:
    def template(content: dict[str, str]) -> NotificationTemplate:
        return NotificationTemplate(tenant_id=tenant.id, name="oncall_paged_pager", channel=PAGER, content=content)

    template({"body": "PAGE {{ service }}"}).clean()
    with pytest.raises(ValidationError, match="pager templates need field"):
        template({}).clean()
    with pytest.raises(ValidationError, match=r"unknown content field.*title"):
        template({"body": "x", "title": "y"}).clean()


def test_a_spec_states_one_consistent_set_of_facts() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ChannelSpec("x", Target.USER, None, None, (), frozenset(), delivered_at_intake=True)
    with pytest.raises(ValueError, match="device channel"):
        ChannelSpec("x", Target.DEVICE, None, None, (), frozenset(), delivered_at_intake=True, uses_providers=False)
    with pytest.raises(ValueError, match="required fields"):
        ChannelSpec("x", Target.USER, None, None, ("body",), frozenset())
    with pytest.raises(ValueError, match="already declared"):
        register_channel(CHANNEL_SPECS["email"])
    with pytest.raises(ValueError, match="enum's own"):
        unregister_channel("email")
    with pytest.raises(ValueError, match="only in_app is delivered at intake"):
        register_channel(ChannelSpec("banner", Target.USER, None, None, ("body",), frozenset({"body"}),
                                     delivered_at_intake=True, uses_providers=False))
    assert "banner" not in CHANNEL_SPECS
    with pytest.raises(UnknownChannel, match="unknown channel 'fax'; known: email, sms, push, in_app"):
        channel_spec("fax")


def test_every_declared_channel_has_a_spec() -> None:
    assert set(CHANNEL_SPECS) >= {channel.value for channel in Channel}
    assert CHANNEL_SPECS[Channel.IN_APP].delivered_at_intake and not CHANNEL_SPECS[Channel.IN_APP].uses_providers
    assert CHANNEL_SPECS[Channel.PUSH].target is Target.DEVICE
