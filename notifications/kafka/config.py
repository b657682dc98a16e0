"""librdkafka configuration: bootstrap servers plus whatever the environment passes through
(security.protocol, SASL, SSL: see settings.KAFKA_CLIENT_CONFIG). Never logged: it may hold a password."""

from __future__ import annotations

import socket
from typing import Any

from notifications.conf import get_setting
from notifications.kafka.client_log import DEFAULT_INTERVAL_SECONDS, ClientLog
from notifications.kafka.errors import KafkaNotConfigured


def bootstrap_servers() -> str:
    return str(get_setting("KAFKA_BOOTSTRAP_SERVERS", "") or "")


def kafka_configured() -> bool:
    return bool(bootstrap_servers())


def client_config(**overrides: Any) -> dict[str, Any]:
    servers = bootstrap_servers()
    if not servers:
        raise KafkaNotConfigured("KAFKA_BOOTSTRAP_SERVERS is not set")
    config: dict[str, Any] = {
        "bootstrap.servers": servers,
        "client.id": f"notifications@{socket.gethostname()}",
        # librdkafka's lines through Python logging, rate-limited, instead of raw lines on stderr.
        "logger": ClientLog(float(get_setting("KAFKA_CLIENT_LOG_INTERVAL_SECONDS", DEFAULT_INTERVAL_SECONDS))),
    }
    config.update(get_setting("KAFKA_CLIENT_CONFIG", {}) or {})
    config.update(overrides)
    return config
