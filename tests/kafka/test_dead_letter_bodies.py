"""What a dead-letter copy's body shows (no broker needed): secrets masked by key even when strict JSON readers
refuse the body (NaN, long numbers, repeated keys, escaped key names, escaped quotes inside a secret)."""

from __future__ import annotations

import pytest

from notifications.events.registry import event_registry
from notifications.kafka.dead_letters import redacted_body

SECRET = "Sup3rSecretPart"


@pytest.mark.parametrize("body", [
    '{"payload": {"temp_password": "%s"}, "n": NaN}',
    '{"payload": {"temp_password": "%s", "amount": 1e999}}',
    '{"payload": {"temp_password": "ab\\"%s"}, "x": NaN}',
    '{"payload": {"pass\\u0077ord": "%s"}, "x": Infinity}',
    '{"payload": {"code": "1", "code": "%s"}, "x": NaN}',
    '{"payload": {"reset_link": "https://x/r?t=%s"}, "big": ' + "9" * 5000 + "}",
    'temp_password="ab\\"%s" and more',
])
def test_secrets_are_masked_in_bodies_strict_readers_refuse(body):
    copy = redacted_body(body.replace("%s", SECRET).encode(), event_registry.redacted_keys())
    assert SECRET.encode() not in copy


def test_a_handlers_own_sensitive_field_is_masked_too(monkeypatch):
    monkeypatch.setattr(event_registry, "sensitive_field_names", lambda: {"pin_code_v2"})
    copy = redacted_body(('{"payload": {"pin_code_v2": "' + SECRET + '"}, "n": NaN}').encode(),
                         event_registry.redacted_keys())
    assert SECRET.encode() not in copy
