"""A tenant's rule routes a record (notifications/rules): the delivery worker tries the named provider first and
renders the named template, through the worker's own path (claim, compose, dispatch, store)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import pytest

from notifications.channels import Message, Sender, SendResult, Sent, register_provider, unregister_provider
from notifications.channels.models import ProviderConfig
from notifications.delivery.dispatch import routed
from notifications.enums import Channel, Status
from notifications.models import NotificationRecord
from notifications.rendering.models import NotificationTemplate
from notifications.rules.store import save_rules
from notifications.testing import InMemorySender, make_event, use_sender

pytestmark = pytest.mark.django_db


class OutboxSms(Sender):
    """An SMS provider whose sends land in a list, with the label of the instance that sent."""

    name = "outbox_sms"
    channels = frozenset({Channel.SMS})
    outbox: ClassVar[list[tuple[str, str]]] = []

    async def send(self, message: Message) -> SendResult:
        self.outbox.append((self.label, message.recipient))
        return Sent(provider_message_id=f"{self.label}-{len(self.outbox)}")


@pytest.fixture
def two_sms_providers(tenant) -> Iterator[None]:
    OutboxSms.outbox.clear()
    register_provider("outbox_sms", OutboxSms)
    ProviderConfig.objects.create(tenant=tenant, channel="sms", provider="outbox_sms", priority=0,
                                  options={"label": "primary"})
    ProviderConfig.objects.create(tenant=tenant, channel="sms", provider="outbox_sms", priority=1,
                                  options={"label": "backup"})
    yield
    unregister_provider("outbox_sms")


def test_a_routed_record_goes_by_the_named_provider(two_sms_providers, process, deliver):
    save_rules("acme", [{"name": "big invoices by the backup", "event_types": ["invoice.payment.failed"],
                         "when": "payload.amount > 1000", "actions": {"provider": {"sms": "backup"}}}])

    process(make_event("invoice.payment.failed", amount=5000, user_id="u-big"))
    process(make_event("invoice.payment.failed", amount=10, user_id="u-small"))
    deliver()

    sent = {r.user_id: r.provider for r in NotificationRecord.objects.filter(channel="sms", status=Status.SENT)}
    assert sent == {"u-big": "backup", "u-small": "primary"}
    assert sorted(label for label, _ in OutboxSms.outbox) == ["backup", "primary"]


def test_a_template_override_is_rendered(tenant, process, deliver):
    NotificationTemplate.objects.create(tenant=tenant, name="task_assigned_email", channel="email",
                                        content={"subject": "Chosen by a rule", "body": "Hello from the rule"})
    save_rules("acme", [{"name": "vip", "event_types": ["invoice.payment.failed"],
                         "actions": {"template": {"email": "task_assigned_email"}}}])

    with use_sender(InMemorySender(Channel.EMAIL)) as email:
        process(make_event("invoice.payment.failed"))
        process(make_event("invoice.payment.succeeded", invoice_id="INV-OTHER"))  # not superseding it
        deliver()

    subjects = sorted(message.fields.get("subject", "") for message in email.outbox)
    assert "Chosen by a rule" in subjects and len(subjects) == 2
    assert subjects.count("Chosen by a rule") == 1


def test_routed_puts_the_named_provider_first_and_keeps_the_others():
    primary, backup = OutboxSms({"label": "primary"}), OutboxSms({"label": "backup"})
    assert routed([primary, backup], "backup") == [backup, primary]
    assert routed([primary, backup], "outbox_sms") == [primary, backup]  # by provider name: all of them
    assert routed([primary, backup], "gone") == [primary, backup]
    assert routed([primary, backup], None) == [primary, backup]
