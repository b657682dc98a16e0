"""The development provider for SMS and push: each message is appended as one JSON line to
var/outbox/<channel>.jsonl (the stand-in for a phone), and a log line says it was sent without the content."""

from __future__ import annotations

import json
import logging
import threading
import uuid
from pathlib import Path

from django.utils import timezone
from pydantic import Field

from notifications.channels.base import Message, Sender, SendResult, Sent, transient
from notifications.channels.declaration import ProviderOptions
from notifications.conf import get_setting
from notifications.enums import Channel

logger = logging.getLogger(__name__)
_write_lock = threading.Lock()


def mask_address(address: str) -> str:
    return address if len(address) <= 4 else "*" * (len(address) - 4) + address[-4:]


class LogOptions(ProviderOptions):
    outbox_dir: str | None = Field(None, min_length=1, description="Directory of the <channel>.jsonl files")


class LogSender(Sender):
    name = "log"
    channels = frozenset({Channel.SMS, Channel.PUSH, Channel.EMAIL})
    options_model = LogOptions

    def _path(self, channel: Channel) -> Path:
        return Path(self.options.get("outbox_dir") or get_setting("OUTBOX_DIR")) / f"{channel.value}.jsonl"

    async def send(self, message: Message) -> SendResult:
        message_id = f"log-{uuid.uuid4().hex[:16]}"
        line = json.dumps(
            {
                "id": message_id,
                "at": timezone.now().isoformat(),
                "tenant_id": message.tenant_id,
                "channel": message.channel.value,
                "to": message.recipient,
                "record_id": message.record_id,
                **({"platform": message.target.get("platform")} if message.target else {}),
                **message.fields,
            }
        )
        path = self._path(message.channel)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with _write_lock, path.open("a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")
        except OSError as err:
            return transient("outbox_unwritable", type(err).__name__)
        logger.info(
            "%s sent by log provider: tenant_id=%s record_id=%s to=%s id=%s",
            message.channel.value, message.tenant_id, message.record_id, mask_address(message.recipient), message_id,
        )
        return Sent(provider_message_id=message_id)
