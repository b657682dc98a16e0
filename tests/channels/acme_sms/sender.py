"""The provider of the recipe: SMS through "Acme SMS", whose sends land in a list (the stand-in for its API)."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from notifications.channels import CredentialField, Message, ProviderOptions, Sender, SendResult, Sent
from notifications.enums import Channel


class AcmeSmsOptions(ProviderOptions):
    sender_id: str = Field(min_length=1, max_length=11, description="Alphanumeric sender id shown on the phone")
    flash: bool = False


class AcmeSmsSender(Sender):
    name = "acme_sms"
    channels = frozenset({Channel.SMS})
    options_model = AcmeSmsOptions
    credential_fields = (CredentialField("api_key"),)

    #: What "Acme SMS" received: (sender_id, to, body, api_key).
    outbox: ClassVar[list[tuple[str, str, str, str]]] = []

    async def send(self, message: Message) -> SendResult:
        self.outbox.append((self.options["sender_id"], message.recipient, message.body, self.credentials["api_key"]))
        return Sent(provider_message_id=f"acme-{len(self.outbox)}")
